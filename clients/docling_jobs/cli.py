"""``docling-jobs convert FILE [--format markdown|html|json] [-o OUT] [-q]``.

Shows a progress bar (interpolated progress, stage, "Using backup connection" when polling),
writes the result and exits 0; a failed job prints its code, message and recovery and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx

from clients.docling_jobs.client import DEFAULT_URL, ApiError, Client, JobEvent
from clients.docling_jobs.progress_bar import ProgressBar

SUFFIX = {"markdown": ".md", "html": ".html", "json": ".json"}


def failure_of_event(event: JobEvent) -> dict | None:
    """None when the terminal event is a success, else its code, message and recovery."""
    if event.type == "ConversionSucceeded":
        return None
    return event.data if "code" in event.data else {"code": event.type, "message": "the job did not succeed"}


def failure_of_state(job: dict) -> dict | None:
    """None when the final job state is a success, else its error (or its status as the code)."""
    if job.get("status") == "succeeded":
        return None
    return job.get("error") or {"code": job.get("status"), "message": "the job did not succeed"}


def follow(client: Client, job_id: str, bar: ProgressBar) -> dict | None:
    """Follow the job to its end on the bar; its failure (code, message, recovery) or None."""
    last = None
    for event in client.events(job_id, on_state=bar.on_state, on_notice=bar.on_notice):
        bar.on_event(event)
        last = event
    failure = failure_of_event(last) if last and last.terminal else failure_of_state(client.status(job_id))
    if failure is None:
        bar.complete()
    return failure


def convert(client: Client, path: Path, fmt: str, out: Path | None, quiet: bool) -> int:
    job = client.submit(path)
    with ProgressBar(sys.stderr, enabled=not quiet) as bar:
        failure = follow(client, job["job_id"], bar)
    if failure is not None:
        print(
            f"failed: {failure.get('code')}: {failure.get('message')} ({failure.get('recovery') or ''})",
            file=sys.stderr,
        )
        return 1
    content = client.result(job["job_id"], fmt)
    target = out or path.with_suffix(SUFFIX[fmt])
    target.write_bytes(content)
    print(f"wrote {target} ({len(content)} bytes)", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docling-jobs", description="Convert documents with docling-jobs.")
    parser.add_argument(
        "--api-url",
        default=os.environ.get("DOCLING_JOBS_API_URL", DEFAULT_URL),
        help="base URL of the API (env DOCLING_JOBS_API_URL, default %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="an existing session's token (env DOCLING_JOBS_TOKEN; default: a new session)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="upload a document, follow its progress, write the result")
    conv.add_argument("file", type=Path)
    conv.add_argument("--format", choices=sorted(SUFFIX), default="markdown")
    conv.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="where to write the result (default: FILE with the format's suffix)",
    )
    conv.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        with Client(args.api_url, token=args.token) as client:
            return convert(client, args.file, args.format, args.output, args.quiet)
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except httpx.TransportError as error:
        print(f"cannot reach the API at {args.api_url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
