"""The local stack launcher: infrastructure only (no MCP server, no services), on free ports."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import asyncpg
import pytest
import redis

from devstack import INFRA, PortInUseError, Ports, Stack
from devstack.layout import REPO_ROOT
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(infra: Stack) -> Stack:
    return infra


def test_nats_reports_jetstream_healthy(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.ports.nats_monitor}/healthz?js-enabled-only=true"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200


def test_valkey_answers_ping(stack: Stack) -> None:
    client = redis.Redis(host="127.0.0.1", port=stack.ports.redis, password=stack.env()["REDIS_PASSWORD"])
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_postgres_serves_database_docling_to_user_docling(stack: Stack) -> None:
    async def select_one() -> int:
        conn = await asyncpg.connect(stack.env()["DATABASE_URL"], timeout=5)
        try:
            return int(await conn.fetchval("select 1"))
        finally:
            await conn.close()

    assert asyncio.run(select_one()) == 1


def test_env_names_every_address(stack: Stack) -> None:
    env = stack.env()
    layout = stack.layout
    nats, valkey, pg = (
        layout.password(p) for p in (layout.nats_password, layout.valkey_password, layout.postgres_password)
    )
    assert env["NATS_URL"] == f"nats://docling:{nats}@127.0.0.1:{stack.ports.nats}"
    assert env["REDIS_PORT"] == str(stack.ports.redis) and env["REDIS_PASSWORD"] == valkey
    assert env["DATABASE_URL"] == f"postgresql://docling:{pg}@127.0.0.1:{stack.ports.postgres}/docling"
    assert env["MCP_SERVER_URL"] == f"http://127.0.0.1:{stack.ports.mcp}/mcp"
    assert Path(env["UPLOAD_DIR"]).is_dir()


def test_the_mcp_secret_is_generated_private_and_given_to_the_stack(stack: Stack) -> None:
    token_file = Path(stack.env()["MCP_SERVER_TOKEN_FILE"])
    assert token_file == stack.layout.mcp_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    assert len(token_file.read_text().strip()) >= 32


def test_each_component_has_its_own_log_and_process_group(stack: Stack) -> None:
    for name in INFRA:
        pid = stack.pid(name)
        assert pid is not None and os.getpgid(pid) == pid
        assert stack.layout.log(name).stat().st_size > 0


def test_taken_port_is_refused_and_nothing_starts(tmp_path: Path) -> None:
    ports = Ports.free()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports.redis))
        holder.listen()
        stack = Stack(tmp_path, ports, components=INFRA)
        with pytest.raises(PortInUseError) as refused:
            stack.start()
    assert str(refused.value) == (
        f"port {ports.redis} (REDIS_PORT) is already in use on 127.0.0.1; "
        "stop what holds it or set REDIS_PORT to another port"
    )
    assert all(stack.pid(name) is None for name in INFRA)
    assert not list((tmp_path / "run").glob("*.pid"))


def test_cli_refuses_taken_port_with_the_env_var_name(tmp_path: Path) -> None:
    ports = Ports.free()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports.nats))
        holder.listen()
        env = {**os.environ, **ports.as_env(), "DOCLING_JOBS_HOME": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "devstack", "up", "--components", "infra"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"port {ports.nats} (NATS_PORT) is already in use on 127.0.0.1" in result.stderr
    assert not list((tmp_path / "run").glob("*.pid"))


def test_stop_leaves_no_process_behind_and_purge_removes_the_data(tmp_path: Path) -> None:
    stack = Stack(tmp_path / "home", Ports.free(), components=INFRA)
    try:
        stack.start()
        pids = [stack.pid(name) for name in INFRA]
        data_root = Path((tmp_path / "home" / "postgres-location").read_text().strip())
        stack.stop()
        for pid in pids:
            assert pid is not None
            wait_for(lambda pid=pid: _gone(pid), 30, f"process {pid} to end after stop()")
    finally:
        stack.purge()
    assert not data_root.exists()
    assert not (tmp_path / "home").exists()


def test_killed_component_can_be_started_again(tmp_path: Path) -> None:
    stack = Stack(tmp_path, Ports.free(), components=INFRA)
    try:
        stack.start()
        first = stack.pid("valkey")
        assert first is not None
        stack.kill("valkey")
        wait_for(lambda: stack.pid("valkey") is None, 30, "valkey to die")
        stack.start_component("valkey")
        second = stack.pid("valkey")
        assert second is not None and second != first
    finally:
        stack.purge()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_restart_replaces_one_component_of_a_running_launcher(tmp_path: Path) -> None:
    env = {**os.environ, **Ports.free().as_env(), "DOCLING_JOBS_HOME": str(tmp_path)}

    def devstack(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "devstack", *args],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    assert devstack("up", "--detach", "--components", "nats").returncode == 0
    try:
        first = int((tmp_path / "run" / "nats.pid").read_text().split()[0])
        restarted = devstack("restart", "nats")
        assert (restarted.returncode, restarted.stdout.strip()) == (0, "nats: restarted"), restarted.stderr
        second = int((tmp_path / "run" / "nats.pid").read_text().split()[0])
        assert second != first and _gone(first)
        monitor = devstack("url", "nats-monitor").stdout.strip()
        with urllib.request.urlopen(f"{monitor}/healthz?js-enabled-only=true", timeout=5) as answer:
            assert answer.status == 200
        unknown = devstack("restart", "nonesuch")
        assert unknown.returncode == 1 and "nonesuch" in unknown.stdout
    finally:
        devstack("down")
