"""Look at and remove conversion checkpoints by hand.

    python -m services.converter.checkpoints show <job id>
    python -m services.converter.checkpoints clear <job id>
    python -m services.converter.checkpoints purge --older-than-days 7

Reads ``DATABASE_URL`` like the services. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict

from runtime import schema
from runtime.retention import SECONDS_PER_DAY
from services.converter.adapters.checkpoint_store import CheckpointStore
from services.converter.settings import ConverterSettings


async def run(args: argparse.Namespace) -> dict:
    pool = await schema.pool(ConverterSettings().database_url, min_size=1, max_size=1)
    store = CheckpointStore(pool)
    try:
        await store.migrate()
        if args.command == "show":
            checkpoint = await store.load(args.job_id)
            if checkpoint is None:
                return {"job_id": args.job_id, "checkpoint": None}
            summary = asdict(checkpoint)
            summary["partial"] = {
                fmt: None if text is None else len(text.encode()) for fmt, text in checkpoint.partial.items()
            }  # sizes, not content
            return {"job_id": args.job_id, "checkpoint": summary}
        if args.command == "clear":
            return {"job_id": args.job_id, "cleared": await store.clear(args.job_id)}
        return {"purged": await store.purge(args.older_than_days * SECONDS_PER_DAY)}
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.converter.checkpoints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("show", "clear"):
        commands.add_parser(name).add_argument("job_id")
    purge = commands.add_parser("purge")
    purge.add_argument("--older-than-days", type=float, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
