"""Operators issue API keys for programs: ``python -m services.api.keys create|list|revoke``.

Reads ``DATABASE_URL`` like the API. ``create`` prints the key once; only its hash is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from runtime import schema
from services.api.adapters.api_keys import ApiKeyStore
from services.api.settings import RATE_LIMIT_DEFAULTS, ApiSettings


def _limits(pairs: Sequence[str]) -> dict[str, str]:
    """``submit=100/60`` pairs: the key's own limits, checked like the API's settings."""
    from services.api.domain import Policy

    found = {}
    for pair in pairs:
        endpoint, _, spec = pair.partition("=")
        if endpoint not in RATE_LIMIT_DEFAULTS:
            raise SystemExit(f"unknown endpoint {endpoint!r}: one of {', '.join(RATE_LIMIT_DEFAULTS)}")
        try:
            Policy.parse(endpoint, spec)
        except ValueError as error:
            raise SystemExit(f"bad limit {pair!r}: {error}") from error
        found[endpoint] = spec
    return found


async def run(args: argparse.Namespace) -> int:
    pool = await schema.pool(ApiSettings().database_url, min_size=1, max_size=1)
    try:
        store = ApiKeyStore(pool)
        await store.migrate()
        if args.command == "create":
            key, text = await store.create(args.name, _limits(args.limit))
            print(
                json.dumps(
                    {"key_id": key.key_id, "name": key.name, "rate_limits": key.rate_limits, "key": text}
                )
            )
        elif args.command == "list":
            for key in await store.all():
                print(json.dumps(key.__dict__))
        elif not await store.revoke(args.key_id):
            print(f"no live key {args.key_id}", file=sys.stderr)
            return 1
        return 0
    finally:
        await pool.close()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m services.api.keys", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="issue a key (printed once)")
    create.add_argument("name", help="who or what the key is for")
    create.add_argument(
        "--limit", action="append", default=[], metavar="ENDPOINT=N/S", help="the key's own rate limit"
    )
    commands.add_parser("list", help="every key (never the secrets)")
    revoke = commands.add_parser("revoke", help="stop a key")
    revoke.add_argument("key_id")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
