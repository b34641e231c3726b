"""The runbook's commands without a stack: replies rendered, log levels filtered, addresses and
environment read from a recorded stack.json, restart requests handed over once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from devstack import control, ops
from devstack.errors import StackError
from devstack.layout import Layout

INFO = {
    "components": ["postgres", "nats", "valkey", "api", "api-2"],
    "ports": {"api": 4100, "mcp": 4101, "redis": 4102, "postgres": 4103, "nats": 4104, "nats_monitor": 4105,
              "ingest": 4106, "converter": 4107, "progress": 4108},
    "urls": {"api": "http://127.0.0.1:4100", "mcp": "http://127.0.0.1:4101/mcp", "nats": "nats://docling@127.0.0.1:4104",
             "redis": "redis://127.0.0.1:4102/0", "database": "postgresql://docling@127.0.0.1:4103/docling"},
    "copies": {"api-2": 4109},
    "api_urls": ["http://127.0.0.1:4100", "http://127.0.0.1:4109"],
}  # fmt: skip


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    recorded = Layout(tmp_path)
    recorded.create()
    recorded.stack_info.write_text(json.dumps(INFO))
    return recorded


def test_replies_render_the_way_redis_cli_prints_to_a_pipe() -> None:
    assert ops.render(None) == "(nil)"
    assert ops.render(b"PONG") == "PONG"
    assert ops.render(7) == "7"
    assert ops.render([b"a", [b"b", 2]]) == "a\nb\n2"


def test_addresses_come_from_the_running_stack(layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_HOST", "REDIS_PORT", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert ops.url(layout, "nats-monitor") == "http://127.0.0.1:4105"
    assert ops.url(layout, "api-2") == "http://127.0.0.1:4109"
    assert ops.url(layout, "postgres") == INFO["urls"]["database"]
    assert ops.redis_address(layout) == ("127.0.0.1", 4102)
    assert "export REDIS_PORT=4102" in ops.env(layout).splitlines()
    with pytest.raises(StackError, match="no component 'nonesuch'"):
        ops.url(layout, "nonesuch")


def test_env_names_the_secret_files_not_the_passwords(layout: Layout) -> None:
    """`eval "$(make -s env)"` logs the tools in; the lines on the terminal show no password."""
    lines = ops.env(layout)
    secrets = {
        p: layout.password(p)
        for p in (layout.postgres_password, layout.valkey_password, layout.nats_password)
    }
    assert not [s for s in secrets.values() if s in lines]
    script = 'eval "$1"; printf "%s\n" "$DATABASE_URL" "$REDIS_PASSWORD" "$NATS_URL"'
    done = subprocess.run(["bash", "-c", script, "-", lines], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        f"postgresql://docling:{secrets[layout.postgres_password]}@127.0.0.1:4103/docling",
        secrets[layout.valkey_password],
        f"nats://docling:{secrets[layout.nats_password]}@127.0.0.1:4104",
    ]


def test_psql_and_url_get_the_password_apart_from_the_address(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert ops.database_login(layout) == (INFO["urls"]["database"], layout.password(layout.postgres_password))
    monkeypatch.setenv("DATABASE_URL", "postgresql://x:hush@pg.internal:6432/docling")
    assert ops.database_login(layout) == ("postgresql://x@pg.internal:6432/docling", "hush")
    assert ops.url(layout, "postgres") == "postgresql://x:***@pg.internal:6432/docling"


def test_the_environment_wins_over_the_local_stack(layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_HOST", "redis.internal")
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@pg.internal:6432/docling")
    assert ops.redis_address(layout) == ("redis.internal", 6379)
    assert ops.database_url(layout) == "postgresql://x@pg.internal:6432/docling"


def test_logs_show_lines_at_the_level_or_above(layout: Layout, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [{"level": "info", "msg": "a"}, {"level": "error", "msg": "b"}, {"level": "warning", "msg": "c"}]
    layout.log("api").write_text("\n".join(json.dumps(line) for line in lines) + "\nplain text\n")
    assert ops.logs(layout, "api", "warning", tail=0) == 0
    assert [json.loads(line)["msg"] for line in capsys.readouterr().out.splitlines()] == ["b", "c"]
    ops.logs(layout, "api", "debug", tail=2)
    assert capsys.readouterr().out.splitlines() == [json.dumps(lines[2]), "plain text"]
    with pytest.raises(StackError, match="no log"):
        ops.logs(layout, "nonesuch", "info", tail=0)


def test_a_restart_request_is_taken_once(layout: Layout) -> None:
    assert control.take_restart_request(layout) is None
    (layout.run / control.RESTART_REQUEST).write_text("converter\n")
    assert control.take_restart_request(layout) == "converter"
    assert control.take_restart_request(layout) is None
    control.answer_restart(layout, "ok")
    assert (layout.run / control.RESTART_RESULT).read_text() == "ok\n"


def test_restart_without_a_launcher_says_so(layout: Layout, capsys: pytest.CaptureFixture[str]) -> None:
    assert control.restart(layout, "converter") == 1
    assert "no launcher runs" in capsys.readouterr().out
