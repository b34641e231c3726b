"""``docling-jobs convert`` as a user runs it, against the running stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.documents import make_corrupt_docx, make_docx


def run_cli(api_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCLING_JOBS_API_URL": api_url}
    return subprocess.run(
        [sys.executable, "-m", "clients.docling_jobs.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_convert_writes_the_markdown(api_url: str, api: httpx.Client, tmp_path: Path) -> None:
    source, out = make_docx(tmp_path / "report.docx"), tmp_path / "out.md"
    done = run_cli(api_url, "convert", str(source), "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "Quarterly report" in text and "Revenue grew in every region" in text and "| North" in text
    assert "100%" in done.stderr


def test_convert_html_format_defaults_the_output_name(api_url: str, tmp_path: Path) -> None:
    source = make_docx(tmp_path / "memo.docx")
    done = run_cli(api_url, "convert", str(source), "--format", "html", "-q")
    assert done.returncode == 0, done.stderr
    assert "<html" in (tmp_path / "memo.html").read_text()


def test_convert_reports_a_failed_job(api_url: str, tmp_path: Path) -> None:
    done = run_cli(api_url, "convert", str(make_corrupt_docx(tmp_path / "bad.docx")), "-q")
    assert done.returncode == 1 and "E205" in done.stderr
    assert not (tmp_path / "bad.md").exists()
