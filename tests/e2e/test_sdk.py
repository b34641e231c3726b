"""The SDK on its own: installed from ``clients/`` into a fresh virtual environment with only its own
requirements (from the machine's package index), then converting a file against the running stack,
sync and async, as a program of someone else's would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import docling_jobs
from tests.documents import make_docx

CLIENTS = Path(docling_jobs.__file__).parents[1]
PROGRAM = """
import asyncio, importlib.util, sys
from pathlib import Path
import docling_jobs

url, source = sys.argv[1], Path(sys.argv[2])
assert "site-packages" in docling_jobs.__file__, docling_jobs.__file__
assert all(importlib.util.find_spec(name) is None for name in ("services", "contracts", "litestar"))
with docling_jobs.Client(url) as client:
    result = client.convert(source)
    print("sync", result.filename, result.text.splitlines()[0])

async def main() -> None:
    async with docling_jobs.AsyncClient(url) as client:
        result = await client.convert(source.read_bytes(), "html", filename=source.name)
        print("async", result.filename, "<title>" + source.stem + "</title>" in result.text)
        try:
            await client.job("00000000-0000-4000-8000-000000000000")
        except docling_jobs.NotFound as missing:
            print("missing", missing.code)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv (without pip of its own: this venv's pip installs into it, ``--python``) holding the
    SDK and what its pyproject asks for, at the versions of requirements/client.txt."""
    venv = tmp_path_factory.mktemp("sdk") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    pins = CLIENTS.parent / "requirements" / "client.txt"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "-c",
            str(pins),
            str(CLIENTS),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return python


def test_the_sdk_installs_alone_and_converts_sync_and_async(
    sdk_python: Path, api_url: str, tmp_path: Path
) -> None:
    source = make_docx(tmp_path / "report.docx")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DOCLING_JOBS_TOKEN")}
    done = subprocess.run([str(sdk_python), "-c", PROGRAM, api_url, str(source)], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("sync report.md ") and "Quarterly report" in lines[0], (
        lines
    )
    assert lines[1:] == ["async report.html True", "missing E104"], lines
