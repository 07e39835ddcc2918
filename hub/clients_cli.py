"""`hub client add|list|revoke`: service accounts in the hub store."""

from __future__ import annotations

import argparse

from auth.clients import add_client, list_clients, revoke_client
from hub.migrations import prepare_store
from hub.revocation import announce_revocation
from hub.schemas import load_access, require_grantable
from hub.settings import ConfigError, Settings
from hub.store import create_store_engine, write_transaction


async def run_client_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.client_command == "add":  # roles the policy does not know would grant nothing
        require_grantable(load_access(settings)[0], args.roles)
    engine = create_store_engine(settings.resolved_store_url)
    try:
        await prepare_store(engine, settings.store_migrations)
        async with write_transaction(engine) as conn:
            if args.client_command == "add":
                try:
                    client_id, secret = await add_client(
                        conn,
                        roles=args.roles,
                        scopes=args.scopes,
                        purpose=args.purpose,
                        token_lifetime=args.token_lifetime,
                        name=args.name,
                    )
                except ValueError as exc:
                    raise ConfigError(str(exc)) from exc
                print(f"client_id: {client_id}\nclient_secret: {secret}\n"
                      "(the secret is shown once; the hub keeps only its hash)")
            elif args.client_command == "list":
                for client in await list_clients(conn):
                    state = "revoked" if client.revoked else "active"
                    print(f"{client.client_id}\t{state}\troles={','.join(sorted(client.roles))}"
                          f"\tscopes={','.join(sorted(client.scopes))}\tpurpose={client.purpose or '-'}"
                          f"\t{client.name}")
            else:
                if not await revoke_client(conn, args.client_id):
                    raise ConfigError(f"no active client {args.client_id!r}")
        if args.client_command == "revoke":  # committed: every hub refuses its tokens within seconds
            await announce_revocation(settings.redis_url, settings.revocation_channel)
            print(f"revoked {args.client_id}; running hubs refuse its tokens within "
                  f"{settings.revocation_poll_seconds:g} s")
    finally:
        await engine.dispose()
    return 0
