"""Persisted operations and automatic persisted queries.

    manifest    reading Apollo and Relay manifests (`hub operations push CLIENT FILE`)
    checks      validating documents against role schemas, as a request would be
    operations  pushed operations in the hub store (tables: `tables`)
    apq         automatic persisted queries in the hub store, bounded
    documents   per request: turning `documentId` / `extensions.persistedQuery` into
                the document to run, and the policy's persisted-only rule

The modules are imported by name (this package re-exports nothing, so that the hub
store can import `tables` without the rest).
"""
