"""``docling-jobs convert`` over an in-memory API: what it refuses before uploading, what it writes,
how it shows progress, and the session it remembers."""

import io
import stat
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from contracts.formats import INPUT_TYPES
from docling_jobs.batch import Batch
from docling_jobs.client import Client
from docling_jobs.display import LiveDisplay, PlainDisplay, QuietDisplay, display_for, stage_of
from docling_jobs.events import JobEvent
from docling_jobs.plan import DOCUMENT_SUFFIXES, PlanError, Task, expand, plan
from docling_jobs.tokens import TokenStore
from tests.unit.fake_api import BASE, FAILED, JOB_ID, SUCCEEDED, FakeApi


def document(path: Path, text: str = "# x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run_batch(api: FakeApi, tasks: list[Task], quiet: bool = False) -> tuple[list, str, bytes]:
    err, out = io.StringIO(), io.BytesIO()
    display = QuietDisplay() if quiet else PlainDisplay(Console(file=err, width=200))
    with Client(transport=api.client_transport(), sleep=lambda s: None) as client:
        with display:
            outcomes = Batch(client, "markdown", display, out, force=False).run(tasks, 2)
    return outcomes, err.getvalue(), out.getvalue()


# -- the plan: refused before anything is uploaded ----------------------------------------------


def test_an_input_is_never_an_output_even_with_force(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = document(tmp_path / "duck.md", "# the original\n")
    with pytest.raises(PlanError, match="is an input"):
        plan([source], "markdown", None, None, force=True)
    assert source.read_text() == "# the original\n"


def test_an_existing_file_needs_force(tmp_path: Path) -> None:
    source, existing = document(tmp_path / "in" / "a.md"), document(tmp_path / "out" / "a.md", "keep")
    with pytest.raises(PlanError, match="exists: not overwritten"):
        plan([source], "markdown", None, tmp_path / "out", force=False)
    assert plan([source], "markdown", None, tmp_path / "out", force=True) == [Task(source, existing)]


@pytest.mark.parametrize(
    ("output", "message"),
    [("missing/x.md", "folder missing does not exist"), ("-", None), ("dir", None)],
)
def test_output_paths(tmp_path: Path, monkeypatch, output: str, message: str | None) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    source = document(tmp_path / "src" / "r.docx")
    if message:
        with pytest.raises(PlanError, match=message):
            plan([source], "markdown", output, None, force=False)
        return
    [task] = plan([source], "html", output, None, force=False)
    assert task.target == (None if output == "-" else Path("dir") / "r.html")


def test_several_inputs_need_an_output_folder_and_distinct_names(tmp_path: Path) -> None:
    a, b = document(tmp_path / "a" / "x.md"), document(tmp_path / "b" / "x.md")
    with pytest.raises(PlanError, match="takes one input"):
        plan([a, b], "markdown", "-", None, force=False)
    with pytest.raises(PlanError, match="would both be written"):
        plan([a, b], "markdown", None, tmp_path / "out", force=False)


def test_folders_are_searched_recursively_and_globs_expanded(tmp_path: Path) -> None:
    top, deep = document(tmp_path / "d" / "a.docx"), document(tmp_path / "d" / "s" / "b.md")
    document(tmp_path / "d" / ".hidden" / "c.md")
    document(tmp_path / "d" / "notes.txt")
    assert expand([str(tmp_path / "d")]) == [top, deep]
    assert expand([str(tmp_path / "d" / "**" / "*.md"), str(deep)]) == [deep]
    with pytest.raises(PlanError, match="no such file or folder"):
        expand([str(tmp_path / "nothing.md")])


def test_the_folder_search_looks_for_what_the_api_accepts() -> None:
    assert frozenset(INPUT_TYPES) == DOCUMENT_SUFFIXES


# -- the run ----------------------------------------------------------------------------------


def test_success_writes_the_result_and_says_100_percent(tmp_path: Path) -> None:
    source, target = document(tmp_path / "report.docx"), tmp_path / "report.md"
    [outcome], err, _ = run_batch(FakeApi(SUCCEEDED, cuts=(3,)), [Task(source, target)])
    assert outcome.converted and target.read_text() == "# converted\n"
    assert "report.docx: 100% done" in err and "\r" not in err and "Using backup connection" not in err


def test_a_failed_job_gives_its_code_and_recovery_and_writes_nothing(tmp_path: Path) -> None:
    source, target = document(tmp_path / "bad.docx"), tmp_path / "bad.md"
    [outcome], _, _ = run_batch(FakeApi(FAILED), [Task(source, target)], quiet=True)
    assert not outcome.converted and not target.exists()
    assert (outcome.code, outcome.recovery) == ("E205", "Retry with different document")


def test_with_the_stream_down_it_says_so_and_still_finishes(tmp_path: Path) -> None:
    source = document(tmp_path / "r.md")
    [outcome], err, out = run_batch(FakeApi(SUCCEEDED, sse_down=True), [Task(source, None)])
    assert outcome.converted and out == b"# converted\n"
    assert "r.md: Using backup connection" in err


def test_a_file_that_appeared_since_the_plan_is_kept(tmp_path: Path) -> None:
    source, target = document(tmp_path / "r.md"), document(tmp_path / "out.md", "mine")
    [outcome], _, _ = run_batch(FakeApi(SUCCEEDED), [Task(source, target)], quiet=True)
    assert not outcome.converted and target.read_text() == "mine"


def test_retry_after_is_waited_out(tmp_path: Path) -> None:
    api, sleeps, refusals = FakeApi(SUCCEEDED), [], [2]

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/v1/jobs" and refusals[0]:
            refusals[0] -= 1
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"code": "E113"})
        return api.handle(request)

    with Client(transport=httpx.MockTransport(handle), sleep=sleeps.append) as client:
        job = client.submit(document(tmp_path / "r.md"))
    assert job.job_id and sleeps == [7.0, 7.0]


def test_stages_read_from_events() -> None:
    assert stage_of(JobEvent(1, "ConversionStarted", {"data": {}}), "x") == "converting"
    progressed = JobEvent(2, "ConversionProgressed", {"data": {"stage": "exporting_json"}})
    assert stage_of(progressed, "x") == "exporting json"
    assert stage_of(JobEvent(3, "Mystery", {}), "stored") == "stored"
    busy = JobEvent(4, "ConversionDeferred", {"data": {"reason": "owner_busy", "stage": "stored"}})
    assert stage_of(busy, "x") == "waiting: your other conversions are running"
    failing = JobEvent(5, "ConversionDeferred", {"data": {"reason": "circuit_open", "stage": "converting"}})
    assert stage_of(failing, "x") == "waiting for server"


# -- the remembered session -------------------------------------------------------------------


def test_the_token_file_is_private_and_per_api(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "cfg" / "sessions.json")
    store.put("http://a:1/", "t1")
    store.put("http://b:2", "t2")
    assert (store.get("http://a:1"), store.get("http://b:2"), store.get("http://c")) == ("t1", "t2", None)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_a_stale_remembered_session_is_replaced_once(tmp_path: Path) -> None:
    api, saved = FakeApi(SUCCEEDED), []
    with Client(token="stale", renewable=True, on_token=saved.append, transport=api.client_transport()) as c:
        c.call("GET", "/api/v1/sessions/current")
    assert api.sessions_created == 1 and saved == [c.session.token]


def test_ctrl_c_cancels_the_jobs_under_way_on_the_server() -> None:
    api = FakeApi(SUCCEEDED)
    with Client(transport=api.client_transport()) as client:
        batch = Batch(client, "markdown", QuietDisplay(), io.BytesIO(), force=False)
        batch.under_way(JOB_ID)
        assert batch.cancel_all() == 1 and batch.stopping.is_set()
    assert [(r.method, r.url.path) for r in api.requests if r.method == "DELETE"] == [("DELETE", BASE)]


def test_progress_fits_where_it_goes() -> None:
    assert isinstance(display_for(Console(file=io.StringIO(), force_terminal=True), False), LiveDisplay)
    assert isinstance(display_for(Console(file=io.StringIO(), force_terminal=False), False), PlainDisplay)
    assert isinstance(display_for(Console(file=io.StringIO(), force_terminal=True), True), QuietDisplay)


def test_a_lagging_state_does_not_take_the_stage_back() -> None:
    out = io.StringIO()
    tracker = PlainDisplay(Console(file=out, width=200)).track("r.md")
    tracker.on_event(JobEvent(3, "ConversionProgressed", {"data": {"stage": "converting", "progress": 15}}))
    tracker.on_state({"stage": "queued", "progress": 0})
    tracker.on_state({"stage": "exporting_json", "progress": 50})
    assert out.getvalue().splitlines() == ["r.md: converting", "r.md: exporting json"]
