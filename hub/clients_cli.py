"""`hub client add|list|revoke`: service accounts in the hub store."""

from __future__ import annotations

import argparse

from auth.clients import add_client, list_clients, revoke_client
from auth.purposes import PurposeRegistry
from hub.cli_config import find_config, missing_store
from hub.migrations import prepare_store
from hub.revocation import announce_revocation
from hub.schemas import load_access, require_grantable
from hub.settings import ConfigError, Settings
from hub.store import create_store_engine, write_transaction


def _require_purpose(purposes: PurposeRegistry, roles: list[str], purpose: str | None) -> None:
    """A client's fixed purpose must be a configured one open to one of its roles."""
    if purpose is None:
        return
    open_to = [p.code for p in purposes.for_roles(roles)]
    if purpose not in open_to:
        listed = ", ".join(open_to) or "none: they may not read personal data"
        raise ConfigError(f"--purpose {purpose[:40]!r} is not a purpose open to the client's roles "
                          f"({purposes.source}); open to {', '.join(roles)}: {listed}")


async def run_client_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.client_command == "add":  # roles the policy does not know would grant nothing
        policy, purposes = load_access(settings)
        require_grantable(policy, args.roles)
        _require_purpose(purposes, args.roles, args.purpose)
    elif args.client_command == "list":  # listing does not create a store
        missing = await missing_store(settings)
        if missing is not None:
            print(f"no service accounts: {missing}; {find_config(args.config, args.data_dir).describe()}")
            return 0
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
                clients = await list_clients(conn)
                if not clients:
                    print("no service accounts registered; add one with `hub client add --role ROLE`")
                for client in clients:
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
