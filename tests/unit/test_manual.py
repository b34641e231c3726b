"""CLAUDE.md is a runbook that holds: small, every seed section findable, every link and alert card
real, and every environment variable the code reads documented (and no other, unless marked)."""

from __future__ import annotations

import re
from pathlib import Path

import opentelemetry.environment_variables
import opentelemetry.sdk.environment_variables
import pytest
import yaml
from pydantic_settings import BaseSettings, EnvSettingsSource

from services.api.settings import ApiSettings
from services.backup.settings import BackupSettings
from services.converter.settings import ConverterSettings
from services.ingest.settings import IngestSettings
from services.mcp_server.settings import McpServerSettings
from services.progress.settings import ProgressSettings
from tests.manual import MANUAL, ROOT, anchors, links

SETTINGS: tuple[type[BaseSettings], ...] = (
    ApiSettings,
    IngestSettings,
    ConverterSettings,
    ProgressSettings,
    McpServerSettings,
    BackupSettings,
)
CONFIGURATION = ROOT / "docs" / "configuration.md"
NOT_READ = "not read, because"
SEED_SECTIONS = (  # WIL-1.8-001..010, in order
    "Redis Key Patterns",
    "SSE Reconnection Sequence",
    "MCP Error Code Mapping",
    "Circuit Breaker Pattern",
    "Progress Interpolation",
    "Checkpoint Serialization Format",
    "Troubleshooting Guide",
    "Infrastructure Architecture",
    "Health Monitoring & Alerting",
    "Backup & Recovery",
)
CODE_FOLDERS = ("services", "runtime", "devstack", "clients", "tests")


def settings_env_names(cls: type[BaseSettings]) -> set[str]:
    """The environment names pydantic-settings reads for each field, aliases and prefixes included."""
    source = EnvSettingsSource(cls)
    return {
        env.upper()
        for name, field in cls.model_fields.items()
        for _, env, _ in source._extract_field_info(field, name)
    }


def read_by_code() -> set[str]:
    """Every name some code reads: settings fields, literals in files that touch the environment,
    and the OpenTelemetry SDK's own variables."""
    names = set().union(*(settings_env_names(cls) for cls in SETTINGS))
    for folder in CODE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            if path != Path(__file__) and re.search(r"\b(environ|getenv)\b", text):
                names |= set(re.findall(r"[\"']([A-Z][A-Z0-9]*_[A-Z0-9_]+)[\"']", text))
    for module in (opentelemetry.environment_variables, opentelemetry.sdk.environment_variables):
        names |= {name for name in vars(module) if name.startswith("OTEL_")}
    return names


def documented(page: Path = CONFIGURATION) -> dict[str, str]:
    """Variable -> its table row, from the first column of every table on the page."""
    rows = {}
    for line in page.read_text().splitlines():
        cells = line.split("|")
        if len(cells) > 2 and not set(cells[1].strip()) <= {"-"}:
            for name in re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`", cells[1]):
                rows[name] = line
    return rows


def test_the_manual_is_under_40_kb() -> None:
    assert len(MANUAL.read_bytes()) < 40_000


def test_every_seed_section_is_a_heading_linked_from_the_start_page() -> None:
    text = MANUAL.read_text()
    start = text.split("\n## Symptom cards", 1)[0]
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    for number, title in enumerate(SEED_SECTIONS, start=1):
        assert title in headings, title
        slug = next(a for a in anchors(f"## {title}"))
        assert f"WIL-1.8-{number:03d}" in text.split(f"\n## {title}\n", 1)[1].split("\n", 2)[1]
        assert f"(#{slug})" in start, f"{title}: not linked from the start page"


def test_every_link_of_the_manual_reaches_a_heading_or_a_file() -> None:
    for page in (MANUAL, *sorted((ROOT / "docs").glob("*.md"))):
        known = anchors(page.read_text())
        for target in links(page.read_text()):
            path, _, anchor = target.partition("#")
            if path:
                assert (page.parent / path).exists(), f"{page.name}: {target}"
            else:
                assert anchor in known, f"{page.name}: #{anchor} is no heading"


def test_every_alert_links_to_its_card() -> None:
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    known = anchors(MANUAL.read_text())
    cards = MANUAL.read_text().split("\n## Alert cards\n", 1)[1].split("\n## ", 1)[0]
    names = [rule["alert"] for group in rules["groups"] for rule in group["rules"]]
    assert len(names) == 9
    for rule in (rule for group in rules["groups"] for rule in group["rules"]):
        runbook = rule["annotations"]["runbook"]
        assert runbook == f"CLAUDE.md#{rule['alert'].lower()}", rule["alert"]
        assert runbook.split("#", 1)[1] in known
        assert f"\n### {rule['alert']}\n" in cards, f"{rule['alert']}: no card under Alert cards"
        card = cards.split(f"\n### {rule['alert']}\n", 1)[1].split("\n### ", 1)[0]
        assert "**Means**" in card and "Confirm" in card


@pytest.mark.parametrize("cls", SETTINGS, ids=lambda cls: cls.__name__)
def test_every_settings_field_is_documented(cls: type[BaseSettings]) -> None:
    assert sorted(settings_env_names(cls) - set(documented())) == []


def test_every_documented_variable_is_read_or_marked_not_read() -> None:
    read = read_by_code()
    rows = documented()
    unread = {name for name, row in rows.items() if NOT_READ not in row and name not in read}
    assert sorted(unread) == []
    wrongly_marked = {name for name, row in rows.items() if NOT_READ in row and name in read}
    assert sorted(wrongly_marked) == []
    assert {"DATABASE_POOL_URL", "REDIS_TLS_ENABLED", "REDIS_TLS_CA_PATH"} <= {
        name for name, row in rows.items() if NOT_READ in row
    }


def test_the_checks_can_fail(tmp_path: Path) -> None:
    page = tmp_path / "configuration.md"
    page.write_text("| variable | meaning |\n|---|---|\n| `NATS_URL` | x |\n| `NO_SUCH_VAR` | y |\n")
    assert set(documented(page)) == {"NATS_URL", "NO_SUCH_VAR"}
    assert "NO_SUCH_VAR" not in read_by_code()
    assert "API_DATABASE_URL" in settings_env_names(ApiSettings) - set(documented(page))
    assert "MCP_PORT" in settings_env_names(McpServerSettings)


def test_every_make_target_the_manual_names_exists() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))
    named = set(re.findall(r"\bmake (?:-s )?([a-z][a-z-]*)", MANUAL.read_text()))
    assert {"redis-cli", "psql", "restart", "health", "logs", "url", "lag", "env"} <= named
    assert sorted(named - targets) == []
