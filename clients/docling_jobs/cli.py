"""``docling-jobs convert INPUT... [-f markdown|html|json] [-o FILE|-|DIR] [--output-dir DIR]
[--force] [-j N] [--json] [-q]``: typer for the options, rich for the bars and the summary.

Exit codes: 0 every file converted, 1 some failed, 2 usage (bad options, bad or unsafe outputs:
nothing is uploaded then), 130 interrupted (Ctrl-C cancels the jobs under way on the server).
The session is remembered per API address (``docling_jobs.tokens``) unless ``--token`` or
``DOCLING_JOBS_TOKEN`` gives one.
"""

from __future__ import annotations

import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from docling_jobs.batch import Batch, Outcome
from docling_jobs.calls import DEFAULT_URL, URL_ENV
from docling_jobs.client import Client
from docling_jobs.display import display_for
from docling_jobs.errors import DoclingJobsError
from docling_jobs.plan import STDOUT, PlanError, Task, expand, plan
from docling_jobs.report import print_failures, print_json, print_summary
from docling_jobs.session import TOKEN_ENV
from docling_jobs.tokens import TokenStore

INTERRUPTED = 130
USAGE = 2
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Convert documents with docling-jobs.")


class Format(StrEnum):
    markdown = "markdown"
    html = "html"
    json = "json"


@app.callback()
def root(
    ctx: typer.Context,
    api_url: Annotated[str, typer.Option(envvar=URL_ENV, help="base URL of the API")] = DEFAULT_URL,
    token: Annotated[str | None, typer.Option(envvar=TOKEN_ENV, help="an existing session's token")] = None,
) -> None:
    ctx.obj = (api_url.rstrip("/"), token)


@app.command()
def convert(
    ctx: typer.Context,
    inputs: Annotated[list[str], typer.Argument(help="files, folders (searched recursively) or globs")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="result format")] = Format.markdown,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="FILE (one input), - (stdout) or DIR")
    ] = None,
    output_dir: Annotated[Path | None, typer.Option(help="folder for the results (default: current)")] = None,
    force: Annotated[bool, typer.Option(help="replace existing result files (never an input)")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=32, help="files converted at once")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="print the outcome as JSON on stdout")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress, no summary")] = False,
) -> None:
    """Upload documents, follow their conversion, write the results."""
    err = Console(stderr=True)
    tasks = _planned(inputs, fmt.value, output, output_dir, force, as_json, err)
    api_url, token = ctx.obj
    with _client(api_url, token) as client:
        outcomes = _run(client, tasks, fmt.value, jobs, quiet, force, err)
    _report(outcomes, as_json, quiet, err)
    raise typer.Exit(0 if all(o.converted for o in outcomes) else 1)


def _planned(inputs: list[str], fmt: str, output: str | None, output_dir: Path | None, force: bool,
             as_json: bool, err: Console) -> list[Task]:  # fmt: skip
    try:
        if as_json and output == STDOUT:
            raise PlanError("--json and -o - both write to stdout: choose one")
        return plan(expand(inputs), fmt, output, output_dir, force)
    except PlanError as refused:
        err.print(f"error: {refused}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(USAGE) from None


def _client(api_url: str, token: str | None) -> Client:
    if token:
        return Client(api_url, token=token, renewable=False)
    store = TokenStore()
    return Client(api_url, token=store.get(api_url), renewable=True, on_token=lambda t: store.put(api_url, t))


def _run(client: Client, tasks: list[Task], fmt: str, jobs: int, quiet: bool, force: bool,
         err: Console) -> list[Outcome]:  # fmt: skip
    batch = Batch(client, fmt, display_for(err, quiet), sys.stdout.buffer, force)
    try:
        client.call("GET", "/api/v1/sessions/current")  # one session for every file, made or renewed once
        with batch.display:
            return batch.run(tasks, jobs)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cancelling short
        cancelled = batch.cancel_all()
        err.print(f"interrupted: cancelled {cancelled} job(s) on the server", highlight=False, soft_wrap=True)
        raise typer.Exit(INTERRUPTED) from None
    except DoclingJobsError as error:
        err.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _report(outcomes: list[Outcome], as_json: bool, quiet: bool, err: Console) -> None:
    if as_json:
        print_json(outcomes, sys.stdout)
    elif quiet:
        print_failures(outcomes, err)
    else:
        print_summary(outcomes, err)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    try:
        app(args=argv, prog_name="docling-jobs")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
