"""``docling-jobs convert`` and its progress bar over an in-memory API."""

import io
from pathlib import Path

import pytest

from clients.docling_jobs.cli import convert, failure_of_event, failure_of_state
from clients.docling_jobs.client import Client
from clients.docling_jobs.events import JobEvent
from clients.docling_jobs.progress_bar import ProgressBar, render, stage_of
from tests.unit.fake_api import FAILED, SUCCEEDED, FakeApi


def run_convert(api: FakeApi, tmp_path: Path, quiet: bool = False) -> tuple[int, Path]:
    source, out = tmp_path / "report.docx", tmp_path / "out.md"
    source.write_bytes(b"PK")
    with Client(transport=api.client_transport(), sleep=lambda s: None) as client:
        return convert(client, source, "markdown", out, quiet), out


def test_success_shows_100_percent_and_writes_the_result(tmp_path: Path, capsys) -> None:
    code, out = run_convert(FakeApi(SUCCEEDED, cuts=(3,)), tmp_path)
    err = capsys.readouterr().err
    assert code == 0 and out.read_text() == "# converted\n"
    assert "100%" in err and "Using backup connection" not in err


def test_a_failed_job_prints_its_code_and_recovery_even_when_quiet(tmp_path: Path, capsys) -> None:
    code, out = run_convert(FakeApi(FAILED), tmp_path, quiet=True)
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert "failed: E205: Document processing failed (Retry with different document)" in err
    assert "[" not in err  # no bar when quiet


@pytest.mark.parametrize("listable", [True, False])
def test_with_the_stream_down_it_says_so_and_still_finishes(tmp_path: Path, capsys, listable: bool) -> None:
    code, out = run_convert(FakeApi(SUCCEEDED, sse_down=True, listable=listable), tmp_path)
    err = capsys.readouterr().err
    assert code == 0 and out.exists()
    assert "\nUsing backup connection\n" in err and "100%" in err


def test_a_failure_seen_only_in_the_polled_state_still_fails(tmp_path: Path, capsys) -> None:
    code, _ = run_convert(FakeApi(FAILED, sse_down=True, listable=False), tmp_path)
    assert code == 1 and "E205" in capsys.readouterr().err


def test_render_and_stage() -> None:
    assert render(42.9, "exporting_markdown", width=10) == "\r[####......]  42% exporting markdown  "
    assert stage_of(JobEvent(1, "ConversionStarted", {"data": {}}), "x") == "converting"
    progressed = JobEvent(2, "ConversionProgressed", {"data": {"stage": "exporting_json"}})
    assert stage_of(progressed, "x") == "exporting_json"
    assert stage_of(JobEvent(3, "Mystery", {}), "stored") == "stored"
    assert failure_of_state({"status": "rejected", "error": None})["code"] == "rejected"


def test_the_bar_redraws_only_changes_and_ends_the_line() -> None:
    out, now = io.StringIO(), [0.0]
    bar = ProgressBar(out, clock=lambda: now[0])
    with bar:
        bar.on_event(JobEvent(4, "ConversionProgressed", {"data": {"stage": "converting", "progress": 60}}))
        bar.complete()
    text = out.getvalue()
    assert text.endswith("100% converting          \n") and text.count("100%") == 1


def test_a_terminal_event_without_a_code_still_fails_readably() -> None:
    assert failure_of_event(JobEvent(5, "JobCancelled", {"data": {}}))["code"] == "JobCancelled"
    assert failure_of_event(JobEvent(5, "ConversionSucceeded", {"data": {}})) is None
