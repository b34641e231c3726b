"""Synchronous ``POST /v1/convert/file`` for a small DOCX: docling-jobs against docling-serve.

Both are asked the same way (multipart ``files``, ``to_formats=md``), one request at a time, and
each answer is checked to hold the document's Markdown. docling-serve gets the two extra fields
that make it convert DOCX without loading any model here (``pipeline=vlm``,
``vlm_pipeline_model=granite_vision_ollama``: the DOCX backend never reaches the VLM; see
shared/peer/docling-serve/README.md); docling-jobs refuses them (it applies neither), and needs
none. Prints the medians side by side and their ratio; asserts nothing about time.

    .venv/bin/python -m bench.compat_latency --jobs http://127.0.0.1:3000 --jobs-key KEY \\
        --serve http://127.0.0.1:5001 [--requests 20]

``--jobs-key`` is an API key (``python -m services.api.keys create bench``) or a session id.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.documents import make_docx

SERVE_EXTRA = {"pipeline": "vlm", "vlm_pipeline_model": "granite_vision_ollama"}


def timed(
    client: httpx.Client, url: str, path: Path, fields: dict[str, str], headers: dict[str, str]
) -> float:
    with path.open("rb") as handle:
        started = time.perf_counter()
        answer = client.post(
            f"{url}/v1/convert/file",
            files={"files": (path.name, handle)},
            data={"to_formats": "md", **fields},
            headers=headers,
        )
        took = time.perf_counter() - started
    body = answer.json() if answer.status_code == 200 else {}
    markdown = (body.get("document") or {}).get("md_content") or ""
    if answer.status_code != 200 or "Quarterly report" not in markdown:
        raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:300]}")
    return took


def medians(
    url: str, paths: list[Path], fields: dict[str, str], headers: dict[str, str], warmup: int
) -> list[float]:
    with httpx.Client(timeout=120) as client:
        for path in paths[:warmup]:
            timed(client, url, path, fields, headers)
        return [timed(client, url, path, fields, headers) for path in paths[warmup:]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", required=True, help="docling-jobs base URL")
    parser.add_argument("--jobs-key", required=True, help="API key or session id for docling-jobs")
    parser.add_argument("--serve", required=True, help="docling-serve base URL")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        count = args.requests + args.warmup
        paths = [make_docx(Path(folder) / f"small-{n}.docx") for n in range(count)]  # unique: no cache hits
        ours = medians(args.jobs, paths, {}, {"X-Api-Key": args.jobs_key}, args.warmup)
        theirs = medians(args.serve, paths, SERVE_EXTRA, {}, args.warmup)
    ours_ms, theirs_ms = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    print(f"sync POST /v1/convert/file, small DOCX, {args.requests} requests one at a time (median, p90)")
    for name, samples, median in (("docling-jobs", ours, ours_ms), ("docling-serve", theirs, theirs_ms)):
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))] * 1000
        print(f"  {name:<14} {median:8.1f} ms   p90 {p90:8.1f} ms")
    print(f"  ratio docling-serve / docling-jobs: {theirs_ms / ours_ms:.1f}x")


if __name__ == "__main__":
    main()
