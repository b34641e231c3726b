"""``docling-jobs convert FILE [--format markdown|html|json] [-o OUT]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx

from clients.docling_jobs.client import DEFAULT_URL, ApiError, Client, JobEvent

SUFFIX = {"markdown": ".md", "html": ".html", "json": ".json"}


def _bar(progress: int, stage: str, width: int = 30) -> str:
    filled = width * progress // 100
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {progress:3d}% {stage:<20}"


def _progress_of(event: JobEvent, shown: int) -> int:
    if event.type == "ConversionSucceeded":
        return 100
    value = event.data.get("progress")
    return max(shown, value) if isinstance(value, int) else shown


def convert(client: Client, path: Path, fmt: str, out: Path | None, quiet: bool) -> int:
    job = client.submit(path)
    shown, stage = 0, "queued"
    for event in client.events(job["job_id"]):
        shown, stage = _progress_of(event, shown), event.data.get("stage", stage)
        if not quiet:
            print(_bar(shown, stage.replace("_", " ")), end="", file=sys.stderr, flush=True)
        if event.type in ("ConversionFailed", "UploadRejected"):
            data = event.data
            print(f"\nfailed: {data.get('code')}: {data.get('message')} ({data.get('recovery', '')})",
                  file=sys.stderr)
            return 1
    if not quiet:
        print(file=sys.stderr)
    content = client.result(job["job_id"], fmt)
    target = out or path.with_suffix(SUFFIX[fmt])
    target.write_bytes(content)
    print(f"wrote {target} ({len(content)} bytes)", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docling-jobs", description="Convert documents with docling-jobs.")
    parser.add_argument("--api-url", default=os.environ.get("DOCLING_JOBS_API_URL", DEFAULT_URL),
                        help="base URL of the API (env DOCLING_JOBS_API_URL, default %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="upload a document, follow its progress, write the result")
    conv.add_argument("file", type=Path)
    conv.add_argument("--format", choices=sorted(SUFFIX), default="markdown")
    conv.add_argument("-o", "--output", type=Path, default=None,
                      help="where to write the result (default: FILE with the format's suffix)")
    conv.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        with Client(args.api_url) as client:
            return convert(client, args.file, args.format, args.output, args.quiet)
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except httpx.TransportError as error:
        print(f"cannot reach the API at {args.api_url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
