"""The end of a CLI run: a summary table on standard error, or one JSON document on standard out."""

from __future__ import annotations

import json
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from docling_jobs.batch import Outcome


def as_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "source": str(outcome.source),
        "output": "-" if outcome.target is None else str(outcome.target),
        "status": "converted" if outcome.converted else "failed",
        "job_id": outcome.job_id,
        "bytes": outcome.size,
        "error": None
        if outcome.converted
        else {"code": outcome.code, "message": outcome.message, "recovery": outcome.recovery},
    }


def print_json(outcomes: list[Outcome], out: TextIO) -> None:
    converted = sum(o.converted for o in outcomes)
    body = {
        "converted": converted,
        "failed": len(outcomes) - converted,
        "files": [as_json(o) for o in outcomes],
    }
    out.write(json.dumps(body, indent=2) + "\n")


def print_summary(outcomes: list[Outcome], console: Console) -> None:
    table = Table(title="docling-jobs convert", title_justify="left")
    for column in ("file", "result", "output or error"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        table.add_row(str(outcome.source), *_cells(outcome))
    console.print(table)
    converted = sum(o.converted for o in outcomes)
    console.print(f"{converted} converted, {len(outcomes) - converted} failed", highlight=False)


def print_failures(outcomes: list[Outcome], console: Console) -> None:
    """What ``--quiet`` still says: one line per failed file."""
    for outcome in outcomes:
        if not outcome.converted:
            console.print(
                f"{outcome.source}: {_cells(outcome)[1]}", markup=False, highlight=False, soft_wrap=True
            )


def _cells(outcome: Outcome) -> tuple[str, str]:
    if outcome.converted:
        return "converted", "stdout" if outcome.target is None else str(outcome.target)
    recovery = f" ({outcome.recovery})" if outcome.recovery else ""
    return "failed", f"failed: {outcome.code}: {outcome.message}{recovery}"
