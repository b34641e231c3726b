"""What a CLI run will read and write, decided before anything is uploaded.

Inputs: files as given, folders searched recursively for the documents the API accepts (hidden
files and folders skipped), and glob patterns (``**`` recursive) the shell did not expand.
Outputs: ``-o FILE`` (one input), ``-o -`` (stdout, one input), ``-o DIR`` or ``--output-dir DIR``
(created when missing), else the current folder; each result is named after its input with the
format's suffix. Refused (``PlanError``, nothing uploaded): an output that is an input (even with
``--force``), an existing output without ``--force``, two inputs with the same output, an output
folder that is missing (for ``-o FILE``), not a folder, or not writable.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from docling_jobs.models import SUFFIXES

# what the API accepts (contracts/formats.py INPUT_TYPES; tests/unit/test_client_cli.py holds them equal)
DOCUMENT_SUFFIXES = frozenset(
    {
        ".adoc", ".asciidoc", ".csv", ".docm", ".docx", ".dotm", ".dotx", ".htm", ".html",
        ".markdown", ".md", ".pdf", ".potm", ".potx", ".ppsm", ".ppsx", ".pptm", ".pptx",
        ".xhtml", ".xlsm", ".xlsx", ".xltm", ".xltx",
        ".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp",
    }
)  # fmt: skip
STDOUT = "-"


class PlanError(Exception):
    """The run cannot go ahead as asked (exit code 2)."""


@dataclass(frozen=True)
class Task:
    source: Path
    target: Path | None  # None: standard output


def expand(arguments: list[str]) -> list[Path]:
    """Every input file the arguments name, once each, in the order given."""
    found: dict[Path, Path] = {}
    for argument in arguments:
        for path in _one(argument):
            found.setdefault(path.resolve(), path)
    if not found:
        raise PlanError("no documents to convert")
    return list(found.values())


def _one(argument: str) -> list[Path]:
    path = Path(argument)
    if path.is_dir():
        documents = sorted(p for p in path.rglob("*") if _is_document(p, path))
        if not documents:
            raise PlanError(
                f"no documents in folder {argument} (looked for {', '.join(sorted(DOCUMENT_SUFFIXES))})"
            )
        return documents
    if path.is_file():
        return [path]
    if glob.has_magic(argument):
        matches = sorted(Path(p) for p in glob.glob(argument, recursive=True) if Path(p).is_file())
        if matches:
            return matches
        raise PlanError(f"no files match {argument}")
    raise PlanError(f"no such file or folder: {argument}")


def _is_document(path: Path, root: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return path.is_file() and not hidden and path.suffix.lower() in DOCUMENT_SUFFIXES


def plan(
    sources: list[Path], fmt: str, output: str | None, output_dir: Path | None, force: bool
) -> list[Task]:
    """One task per source; raises ``PlanError`` for any output that must not be written."""
    if output is not None and output_dir is not None:
        raise PlanError("give either -o/--output or --output-dir, not both")
    if output == STDOUT:
        _only_one(sources, "-o -")
        return [Task(sources[0], None)]
    if output is not None and not Path(output).is_dir():
        _only_one(sources, "-o FILE")
        tasks = [Task(sources[0], Path(output))]
    else:
        folder = _folder(Path(output) if output is not None else output_dir)
        tasks = [Task(s, folder / f"{s.stem}{SUFFIXES[fmt]}") for s in sources]
    _check(tasks, sources, force)
    return tasks


def _only_one(sources: list[Path], option: str) -> None:
    if len(sources) != 1:
        raise PlanError(f"{option} takes one input, got {len(sources)}: use --output-dir for several")


def _folder(given: Path | None) -> Path:
    if given is None:
        return Path.cwd()
    if given.exists() and not given.is_dir():
        raise PlanError(f"output folder {given} is a file")
    try:
        given.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PlanError(f"cannot create output folder {given}: {error.strerror}") from error
    return given


def _check(tasks: list[Task], sources: list[Path], force: bool) -> None:
    inputs = {s.resolve() for s in sources}
    seen: dict[Path, Path] = {}
    problems = [p for task in tasks if (p := _problem(task, inputs, seen, force))]
    if problems:
        raise PlanError("\n".join(problems))


def _problem(task: Task, inputs: set[Path], seen: dict[Path, Path], force: bool) -> str | None:
    target = task.target
    assert target is not None
    resolved = target.resolve()
    if resolved in inputs:
        return f"{target} is an input: it would be overwritten (choose -o or --output-dir)"
    if resolved in seen:
        return f"{task.source} and {seen[resolved]} would both be written to {target}"
    seen[resolved] = task.source
    folder = target.parent
    if not folder.is_dir():
        return f"cannot write {target}: folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"cannot write {target}: folder {folder} is not writable"
    if target.is_dir():
        return f"cannot write {target}: it is a folder"
    if target.exists() and not force:
        return f"{target} exists: not overwritten (use --force to replace it)"
    return None
