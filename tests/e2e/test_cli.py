"""``docling-jobs convert`` as a user runs it, against the running stack: a subprocess of the SDK's
own entry point (``python -m docling_jobs``), each with a config folder of its own."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import docling_jobs
from devstack import Stack
from devstack.ports import free_ports
from devstack.probes import http_ok
from devstack.proc import spawn, terminate
from docling_jobs.tokens import CONFIG_ENV
from services.api.settings import RATE_LIMIT_DEFAULTS
from tests.documents import make_corrupt_docx, make_docx
from tests.waiting import wait_for

SDK_PATH = str(Path(docling_jobs.__file__).parents[1])


def run_cli(api_url: str, *args: str, cwd: Path, token: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCLING_JOBS_API_URL": api_url, "PYTHONPATH": SDK_PATH,
           CONFIG_ENV: str(cwd / ".config")}  # fmt: skip
    if not token:
        env.pop("DOCLING_JOBS_TOKEN", None)
    command = [sys.executable, "-m", "docling_jobs", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def newest_job(api: httpx.Client) -> str | None:
    jobs = api.get("/api/v1/jobs", params={"limit": 1}).json()["jobs"]
    return jobs[0]["job_id"] if jobs else None


def test_convert_writes_the_markdown(api_url: str, tmp_path: Path) -> None:
    source, out = make_docx(tmp_path / "report.docx"), tmp_path / "out.md"
    done = run_cli(api_url, "convert", str(source), "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "Quarterly report" in text and "Revenue grew in every region" in text and "| North" in text
    assert "report.docx: 100% done" in done.stderr and "\r" not in done.stderr


def test_convert_html_goes_to_the_current_folder(api_url: str, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    source = make_docx(tmp_path / "in" / "memo.docx")
    done = run_cli(api_url, "convert", str(source), "--format", "html", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "<html" in (tmp_path / "memo.html").read_text()


def test_convert_reports_a_failed_job(api_url: str, tmp_path: Path) -> None:
    done = run_cli(api_url, "convert", str(make_corrupt_docx(tmp_path / "bad.docx")), "-q", cwd=tmp_path)
    assert done.returncode == 1 and "E205" in done.stderr
    assert not (tmp_path / "bad.md").exists()


def test_an_existing_file_is_not_overwritten_without_force(
    api_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    source, existing = make_docx(tmp_path / "report.docx"), tmp_path / "report.md"
    existing.write_text("my notes\n")
    before = newest_job(api)
    refused = run_cli(api_url, "convert", str(source), cwd=tmp_path)
    assert refused.returncode == 2 and "report.md exists: not overwritten" in refused.stderr
    assert existing.read_text() == "my notes\n" and newest_job(api) == before  # nothing was uploaded
    forced = run_cli(api_url, "convert", str(source), "--force", "-q", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "Quarterly report" in existing.read_text()


def test_an_input_is_never_overwritten(api_url: str, tmp_path: Path) -> None:
    duck = tmp_path / "duck.md"
    duck.write_text("# Duck\n\nquack\n")
    done = run_cli(api_url, "convert", "duck.md", "--force", cwd=tmp_path)
    assert done.returncode == 2 and "is an input" in done.stderr and "Traceback" not in done.stderr
    assert duck.read_text() == "# Duck\n\nquack\n"


def test_bad_output_paths_are_refused_and_stdout_works(api_url: str, tmp_path: Path) -> None:
    source = make_docx(tmp_path / "r.docx")
    missing = run_cli(api_url, "convert", str(source), "-o", "missing/x.md", cwd=tmp_path)
    assert missing.returncode == 2 and "folder missing does not exist" in missing.stderr
    piped = run_cli(api_url, "convert", str(source), "-o", "-", "-q", cwd=tmp_path)
    assert piped.returncode == 0 and "Quarterly report" in piped.stdout
    assert not (tmp_path / "-").exists()


# -- a folder of 40 under the default rate limits --------------------------------------------


@pytest.fixture(scope="module")
def default_limits_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One more API process on the suite's stack, with the production rate limits (the suite's own
    APIs run with lifted ones, see tests/limits.py): 30 submissions a minute per session."""
    [port] = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("API_RATE_LIMIT_")}
    env.update(stack.env(), API_PORT=str(port))
    log = tmp_path_factory.mktemp("default-limits") / "api.log"
    process = spawn([sys.executable, "-m", "services.api"], env=env, cwd=Path.cwd(), log_path=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(f"{url}/health"), 60, "the default-limits API to answer /health")
        yield url
    finally:
        terminate(process.pid, sig=signal.SIGTERM, group=True, timeout=10, popen=process)


def test_a_folder_of_40_converts_in_one_run_under_the_default_limits(
    default_limits_api: str, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    for n in range(40):
        (folder / f"part{n // 10}").mkdir(parents=True, exist_ok=True)
        (folder / f"part{n // 10}" / f"note{n:02d}.md").write_text(f"# Note {n}\n\nbody {n}\n")
    assert int(RATE_LIMIT_DEFAULTS["submit"].split("/")[0]) < 40  # Retry-After must be honoured
    done = run_cli(default_limits_api, "convert", "notes", "--output-dir", "out", "-j", "4", "--json",
                   cwd=tmp_path, token=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert outputs == [f"note{n:02d}.md" for n in range(40)]
    assert (tmp_path / "out" / "note07.md").read_text().startswith("# Note 7")
    assert '"converted": 40' in done.stdout and '"failed": 0' in done.stdout
    tokens = tmp_path / ".config" / "sessions.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600 and default_limits_api in tokens.read_text()
