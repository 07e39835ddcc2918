"""The citizen page (`/warga`, issue 24): a resident signs in with OpenID Connect
(hub.citizen.signin), applies for a permit with its documents and follows their own
applications (hub.citizen.pages), every operation run in-process through the citizen
role's schema as the signed-in resident (hub.citizen.executor), so that policy, purposes
and the access ledger apply as on `/graphql`. `hub demo` adds a development identity
provider (hub.citizen.dev_idp)."""
