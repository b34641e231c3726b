"""docling's own time for each document, in a warm process: what no server can go below.

Runs in the MCP server's venv (it needs docling), as ``bench.vs_docling_serve`` does it:

    .venv-mcp/bin/python -m bench.docling_own --warmup 3 a.docx b.docx ...

Builds one ``DocumentConverter`` and its pipelines once, as a worker of our MCP server does
(``services/mcp_server/adapters/worker.py``), converts the first ``--warmup`` files untimed, then
each other file one at a time. Prints one JSON object: per file, the milliseconds of ``convert`` and
``export_to_markdown`` (``markdown_ms``), and of those plus the HTML and JSON exports our worker also
makes on every conversion (``all_formats_ms``).
"""

from __future__ import annotations

import argparse
import json
import time

from docling.datamodel.base_models import InputFormat
from docling.document_converter import DocumentConverter


def timed(converter: DocumentConverter, path: str) -> tuple[float, float]:
    started = time.perf_counter()
    document = converter.convert(path).document
    document.export_to_markdown()
    markdown_s = time.perf_counter() - started
    document.export_to_html()
    json.dumps(document.export_to_dict())
    return markdown_s * 1000, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    converter = DocumentConverter()
    converter.initialize_pipeline(InputFormat.DOCX)
    for path in args.paths[: args.warmup]:
        timed(converter, path)
    times = [timed(converter, path) for path in args.paths[args.warmup :]]
    print(json.dumps({"markdown_ms": [t[0] for t in times], "all_formats_ms": [t[1] for t in times]}))


if __name__ == "__main__":
    main()
