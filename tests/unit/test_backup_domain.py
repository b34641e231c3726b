"""The backup's pure core: manifests checked, retention decided, the event log's restore planned."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from services.backup import domain
from services.backup.domain import ArchivedEvent, Manifest, Measured, Part, Retention, StreamPosition

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHA = hashlib.sha256(b"report").hexdigest()


def _set(days_old: float, *, complete: bool = True, files: tuple[str, ...] = (), wal: str = "") -> Manifest:
    created = NOW - timedelta(days=days_old)
    return Manifest(
        set_id=domain.new_set_id(created),
        created_at=created,
        complete=complete,
        files=[Part(name=f"files/{name}", size=1, sha256="x") for name in files],
        wal_start=wal,
    )


def test_set_ids_sort_by_time_and_read_back() -> None:
    older, newer = domain.new_set_id(NOW - timedelta(seconds=1)), domain.new_set_id(NOW)
    assert older < newer
    assert domain.set_time(newer) == NOW


def test_a_content_addressed_name_promises_its_sha256() -> None:
    assert domain.content_sha(f"{SHA[:2]}/{SHA}.docx") == SHA
    assert domain.content_sha(f"{SHA[:2]}/{SHA}") == SHA
    assert domain.content_sha(f"zz/{SHA}.docx") is None  # prefix is not the hash's
    assert domain.content_sha(f"{SHA[:2]}/.incoming-abc") is None
    assert domain.content_sha("report.docx") is None


def test_only_files_missing_from_the_pool_are_copied() -> None:
    assert domain.to_copy(["b/2", "a/1", "c/3"], ["a/1"]) == ["b/2", "c/3"]
    assert domain.to_copy(["a/1"], ["a/1"]) == []


def test_check_parts_names_every_difference() -> None:
    parts = [
        Part(name="dump", size=3, sha256="aa"),
        Part(name="base", size=5, sha256="bb"),
        Part(name="gone", size=1, sha256="cc"),
    ]
    measured = {"dump": Measured(3, "aa"), "base": Measured(5, "ff"), "gone": None}
    problems = domain.check_parts(parts, measured)
    assert len(problems) == 2
    assert problems[0].startswith("base: sha256")
    assert problems[1] == "gone: missing"
    assert domain.check_parts(parts[:1], measured) == []
    assert domain.check_parts([Part(name="dump", size=4, sha256="aa")], measured) == [
        "dump: size 3, manifest says 4"
    ]


def test_an_upload_whose_hash_is_not_its_name_is_reported() -> None:
    good = Part(name=f"files/{SHA[:2]}/{SHA}.md", size=6, sha256=SHA)
    bad = Part(name=f"files/{SHA[:2]}/{SHA}.md", size=6, sha256="0" * 64)
    assert domain.check_files([good]) == []
    assert domain.check_files([bad]) == [f"{bad.name}: content does not match its name"]


def test_check_rows_compares_every_table_of_the_manifest() -> None:
    assert domain.check_rows({"jobs": 3, "results": 9}, {"jobs": 3, "results": 9, "extra": 1}) == []
    assert domain.check_rows({"jobs": 3}, {"jobs": 2}) == ["table jobs: 2 rows restored, manifest says 3"]
    assert domain.check_rows({"jobs": 3}, {}) == ["table jobs: None rows restored, manifest says 3"]


def test_retention_drops_database_parts_after_30_days_and_sets_after_90() -> None:
    sets = [_set(1, wal="0003"), _set(31, files=("a/1",), wal="0002"), _set(91, files=("b/2",), wal="0001")]
    plan = domain.plan_retention(sets, NOW, Retention())
    assert plan.drop_set == [sets[2].set_id]
    assert plan.drop_database == [sets[1].set_id]
    assert plan.keep_files == {"files/a/1"}
    assert plan.oldest_wal_start == "0003"  # only the newest set still has a base backup


def test_retention_never_drops_the_newest_complete_set() -> None:
    only = _set(200, files=("a/1",), wal="0001")
    incomplete = _set(0, complete=False)
    plan = domain.plan_retention([only, incomplete], NOW, Retention())
    assert plan.drop_set == [] and plan.drop_database == []
    assert plan.keep_files == {"files/a/1"}
    assert plan.oldest_wal_start == "0001"


def test_retention_follows_its_settings() -> None:
    sets = [_set(0), _set(2)]
    plan = domain.plan_retention(sets, NOW, Retention(db_days=1, files_days=3))
    assert plan.drop_database == [sets[1].set_id] and plan.drop_set == []


POSITION = StreamPosition(archived_through=100, stream_last_seq=120)


def test_a_surviving_stream_is_reprojected_after_the_copy() -> None:
    assert domain.event_log_action(1, 150, POSITION, until=False) == "reproject"
    assert domain.event_log_action(101, 150, POSITION, until=False) == "reproject"
    assert domain.event_log_action(1, 120, POSITION, until=False) == "reproject"  # nothing came after


def test_a_lost_foreign_or_aged_out_stream_is_rebuilt() -> None:
    assert domain.event_log_action(None, None, POSITION, until=False) == "rebuild"
    assert domain.event_log_action(0, 0, POSITION, until=False) == "rebuild"  # a new, empty stream
    assert domain.event_log_action(1, 40, POSITION, until=False) == "rebuild"  # behind the copy
    assert domain.event_log_action(1, 110, POSITION, until=False) == "rebuild"  # shorter than it was
    assert domain.event_log_action(130, 150, POSITION, until=False) == "rebuild"  # 101..129 aged out
    assert domain.event_log_action(1, 150, None, until=False) == "rebuild"  # no position recorded


def test_a_point_in_time_restore_always_rebuilds() -> None:
    assert domain.event_log_action(1, 150, POSITION, until=True) == "rebuild"


def _event(seq: int, job: str, n: int, kind: str, terminal: bool = False) -> ArchivedEvent:
    return ArchivedEvent(seq, job, n, f"{job}-{n}", kind, terminal, "{}")


def test_a_rebuilt_stream_gets_in_flight_jobs_whole_and_ended_jobs_outcome_only() -> None:
    events = [
        _event(1, "done", 1, "JobSubmitted"),
        _event(2, "busy", 1, "JobSubmitted"),
        _event(3, "done", 2, "UploadStored"),
        _event(4, "busy", 2, "UploadStored"),
        _event(5, "done", 3, "ConversionSucceeded", terminal=True),
        _event(6, "busy", 3, "ConversionStarted"),
        _event(7, "queued", 1, "JobSubmitted"),
    ]
    chosen = domain.to_republish(events)
    assert [(e.job_id, e.event_type) for e in chosen] == [
        ("busy", "UploadStored"),  # stored already: ingest must not see JobSubmitted again
        ("done", "ConversionSucceeded"),
        ("busy", "ConversionStarted"),
        ("queued", "JobSubmitted"),  # not stored yet: ingest gets it (and rejects it: E107, bytes lost)
    ]
    assert domain.republished_start(7) == 8


def test_the_client_tools_of_the_servers_major_version_are_chosen() -> None:
    candidates = {"/usr/bin": 15, "/wheel/bin": 18}
    assert domain.tool_for(180006, candidates) == "/wheel/bin"
    assert domain.tool_for(150018, candidates) == "/usr/bin"
    assert domain.tool_for(170000, candidates) is None


def test_restored_names_stay_inside_the_upload_folder() -> None:
    assert domain.safe_relative("ab/abc.docx")
    assert not domain.safe_relative("../etc/passwd")
    assert not domain.safe_relative("/etc/passwd")
