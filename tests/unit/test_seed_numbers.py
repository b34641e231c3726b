"""Each number the operations plan (../shared/seed, WIL-1.8-001..010) fixes, held here as the plan
writes it, against what ships (the code's default), what the manual says and, where there is one,
the alert rule. A number that drifts anywhere fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from contracts import keys
from docling_jobs import backoff, interpolate, live
from services.api.settings import ApiSettings
from services.converter import breaker, checkpoint_format
from services.converter.adapters.checkpoint_store import SCHEMA
from services.converter.settings import ConverterSettings

ROOT = Path(__file__).parents[2]
MANUAL = (ROOT / "CLAUDE.md").read_text()
ALERTS = {
    rule["alert"]: rule
    for group in yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())["groups"]
    for rule in group["rules"]
}


def row(first_cell: str, text: str = MANUAL) -> str:
    """The one table row of the manual whose first cell is ``first_cell``."""
    found = [line for line in text.splitlines() if line.startswith(f"| {first_cell} |")]
    assert len(found) == 1, f"{first_cell}: {len(found)} rows"
    return found[0]


def threshold(alert: str) -> tuple[str, float]:
    """The comparison at the end of an alert's expression: ('>', 0.1)."""
    match = re.search(r"(>|<|==|!=)\s*([\d.]+)\s*$", ALERTS[alert]["expr"].strip())
    assert match, ALERTS[alert]["expr"]
    return match.group(1), float(match.group(2))


def seconds(duration: str) -> float:
    """Prometheus `for:` (30s, 1m, 5m) in seconds."""
    value, unit = re.fullmatch(r"(\d+)([sm])", duration).groups()  # type: ignore[union-attr]
    return float(value) * (60 if unit == "m" else 1)


def test_sse_buffer_ttl_is_300_s() -> None:
    seed_ttl_s = 300  # WIL-1.8-001: "TTL: 5 minutes (300 seconds)"
    assert keys.SSE_BUFFER_TTL_S == seed_ttl_s
    assert "5 minutes (300 s)" in row("`sse:events:{jobId}`")
    assert "TTL: 5 minutes (300 seconds)" in (ROOT / "docs" / "redis-keys.md").read_text()


def test_session_ttl_is_24_h() -> None:
    seed_ttl_s = 86400  # WIL-1.8-001: "TTL: 24 hours (86400 seconds)"
    assert keys.SESSION_TTL_S == seed_ttl_s
    assert "24 h (86400 s)" in row("`session:{uuid}`")


@pytest.mark.parametrize(
    ("field", "config_field", "seed_value", "documented"),
    [
        ("breaker_failure_threshold", "failure_threshold", 5, "| 5 | failureThreshold |"),
        ("breaker_reset_timeout_s", "reset_timeout_s", 30000 / 1000, "| 30 s | resetTimeout (30000 ms) |"),
        ("breaker_window_s", "window_s", 60000 / 1000, "| 60 s | monitoringPeriod (60000 ms) |"),
    ],
)
def test_breaker_defaults_are_the_seeds(
    field: str, config_field: str, seed_value: float, documented: str
) -> None:
    # WIL-1.8-004: failureThreshold 5, resetTimeout 30000ms, monitoringPeriod 60000ms
    assert ConverterSettings.model_fields[field].default == seed_value
    assert getattr(breaker.Config(), config_field) == seed_value
    assert getattr(ConverterSettings().breaker_config(), config_field) == seed_value
    env = f"`CONVERTER_{field.upper()}`"
    assert documented in next(line for line in MANUAL.splitlines() if env in line and line.startswith("| "))


def test_the_trial_lease_has_one_value() -> None:
    """The half-open trial's lease once had two defaults (15 s in the breaker, 10 s from the settings)."""
    lease = ConverterSettings().breaker_config().trial_lease_s
    assert breaker.Config().trial_lease_s == lease == 10.0
    row = next(line for line in MANUAL.splitlines() if "`CONVERTER_BREAKER_PROBE_TIMEOUT_S`" in line)
    assert f"(lease {lease:.0f} s)" in row


def test_interpolation_tick_pause_and_rates() -> None:
    seed_tick_ms, seed_max_rate, seed_stale_ms, seed_catch_up = 100, 1, 5000, 10  # WIL-1.8-005
    assert interpolate.TICK_S * 1000 == seed_tick_ms
    assert interpolate.MAX_STEP == seed_max_rate
    assert interpolate.STALE_AFTER_S * 1000 == seed_stale_ms
    assert interpolate.CATCH_UP_GAP == seed_catch_up
    assert "0.1 s (100 ms)" in row("`TICK_S`")
    assert "1 point" in row("`MAX_STEP`")
    assert "5.0 s (5,000 ms)" in row("`STALE_AFTER_S`")
    assert "10 points" in row("`CATCH_UP_GAP` / `CATCH_UP_SHARE`")


def test_reconnection_timing_and_polling() -> None:
    # WIL-1.8-002: base 1 s, max 30 s, 2x, 10 retries, +/- 10 %, polling every 2 s
    assert (backoff.BASE_S, backoff.MAX_S, backoff.FACTOR) == (1, 30, 2)
    assert (backoff.MAX_TRIES, backoff.JITTER, live.POLL_INTERVAL_S) == (10, 0.10, 2)
    section = MANUAL.split("\n## SSE Reconnection Sequence\n", 1)[1].split("\n## ", 1)[0]
    assert "`min(30, 1 * 2**k)` s ± 10 %" in section
    assert "10 attempts" in section and "every 2 s" in section


def test_checkpoint_limit_is_1_mb_in_code_database_and_manual() -> None:
    seed_limit_bytes = 1024 * 1024  # WIL-1.8-006: "Maximum checkpoint size: 1MB"
    assert checkpoint_format.MAX_BYTES == seed_limit_bytes
    database = re.search(r"CHECK \(octet_length\(body\) <= (\d+)\)", SCHEMA)
    assert database and int(database.group(1)) == seed_limit_bytes
    section = MANUAL.split("\n## Checkpoint Serialization Format\n", 1)[1].split("\n## ", 1)[0]
    assert f"1 MB ({seed_limit_bytes:,} bytes)" in section
    assert f"CHECK (octet_length(body) <= {seed_limit_bytes})" in section


def test_checkpoints_are_purged_after_7_days() -> None:
    issue_days = 7  # docling-jobs issue 20: checkpoints left behind are purged after 7 days
    assert ConverterSettings.model_fields["checkpoint_max_age_days"].default == issue_days
    assert f"`CONVERTER_CHECKPOINT_MAX_AGE_DAYS` ({issue_days} days)" in MANUAL


def test_largest_upload_is_100_mb() -> None:
    seed_mb = 100  # WIL-1.8-008: MAX_FILE_SIZE_MB=100
    assert ApiSettings.model_fields["max_file_size_mb"].default == seed_mb
    assert f"| `MAX_FILE_SIZE_MB` | `{seed_mb}` |" in MANUAL


@pytest.mark.parametrize(
    ("what", "alert", "op", "seed_threshold", "seed_for_s", "documented"),
    [  # WIL-1.8-009: the key metrics' alert thresholds and the seed's alerting rules
        ("Health endpoint status", "DoclingHealthDegraded", "!=", 1, 60, "!= 1 for 1 min"),
        ("Database up", "DoclingDatabaseDown", "==", 0, 30, "== 0 for 30 s"),
        ("Database latency", "DoclingDatabaseSlow", ">", 0.100, None, "> 100 ms"),
        ("Redis latency", "DoclingRedisSlow", ">", 0.050, None, "> 50 ms"),
        ("Redis memory %", "DoclingRedisHighMemory", ">", 80, 300, "> 80 for 5 min"),
        ("MCP server status", "DoclingMcpServerDown", "==", 0, 30, "== 0 for 30 s"),
        ("Error rate", "DoclingHighErrorRate", ">", 0.05, None, "5xx > 5 %"),
        ("SSE connections", "DoclingTooManySseConnections", ">", 1000, None, "sum > 1,000"),
    ],
)
def test_alert_thresholds_are_the_seeds(
    what: str, alert: str, op: str, seed_threshold: float, seed_for_s: float | None, documented: str
) -> None:
    assert threshold(alert) == (op, seed_threshold)
    if seed_for_s is not None:
        assert seconds(ALERTS[alert]["for"]) == seed_for_s
    line = row(what)
    assert documented in line and f"`{alert}`" in line


def test_scrape_interval_is_15_s() -> None:
    seed_interval = "15s"  # WIL-1.8-009: scrape_interval: 15s
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    assert scrape["global"]["scrape_interval"] == seed_interval
    assert "scrape every 15 s" in MANUAL


def test_the_helpers_can_fail() -> None:
    with pytest.raises(AssertionError):
        row("no such first cell")
    assert seconds("5m") == 300 and threshold("DoclingRedisSlow") != (">", 0.5)


def test_the_numbers_that_drifted_before_match_the_code() -> None:
    """Last-Event-ID's bound and the projection's fetch size once had copies that disagreed."""
    from contracts.subjects import PROGRESS_BATCH as BATCH
    from services.api.domain import MAX_EVENT_ID

    sse = (ROOT / "docs" / "sse.md").read_text()
    assert f"at most {len(str(MAX_EVENT_ID))} of them and at most {MAX_EVENT_ID}" in sse
    assert f"0 to {MAX_EVENT_ID}" in MANUAL and f"from 0 to {MAX_EVENT_ID}" in sse
    assert f"up to {BATCH} waiting messages a fetch" in (ROOT / "docs" / "event-log.md").read_text()
    everything = MANUAL + "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    assert "19 of them" not in everything and "256 waiting messages" not in everything
