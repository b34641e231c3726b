"""The embedded servers ask for the generated passwords, and nothing the launcher shows or keeps in
the open carries one (issue #15: every internal service needs credentials)."""

from __future__ import annotations

import asyncio
import socket
import stat
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.errors import Error as NatsError

from devstack import INFRA, Ports, Stack, postgres
from devstack.launcher import banner
from devstack.layout import Layout

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(infra: Stack) -> Stack:
    return infra


def passwords(layout: Layout) -> dict[str, str]:
    files = (layout.postgres_password, layout.valkey_password, layout.nats_password)
    return {path.name: path.read_text().strip() for path in files}


def test_every_secret_and_config_holding_one_is_private(stack: Stack) -> None:
    layout = stack.layout
    assert stat.S_IMODE(layout.secrets.stat().st_mode) == 0o700
    for path in (layout.postgres_password, layout.valkey_password, layout.nats_password,
                 layout.home / "valkey.conf", layout.home / "nats.conf"):  # fmt: skip
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    found = passwords(layout)
    assert len(set(found.values())) == 3 and all(len(p) >= 32 for p in found.values())


def _pg_connect(port: int, password: str | None) -> None:
    async def connect() -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=port, user="docling", password=password,
                                     database="docling", timeout=5)  # fmt: skip
        await conn.close()

    asyncio.run(connect())


def test_postgres_refuses_no_password_and_a_wrong_one(stack: Stack) -> None:
    port = stack.ports.postgres
    for wrong in (None, "wrong"):
        with pytest.raises(asyncpg.InvalidPasswordError):
            _pg_connect(port, wrong)
    _pg_connect(port, stack.layout.password(stack.layout.postgres_password))  # the right one works


def test_pg_hba_trusts_nobody(stack: Stack) -> None:
    hba = postgres.plan(stack.layout).data_dir / "pg_hba.conf"
    rules = [
        line.split() for line in hba.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    assert rules and all(rule[-1] == "scram-sha-256" for rule in rules), rules


def _redis_reply(port: int, *commands: bytes) -> list[bytes]:
    """Each command's first reply line, over a plain socket (no client that might AUTH for us)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, sock.makefile("rb") as replies:
        answers = []
        for command in commands:
            sock.sendall(command + b"\r\n")
            answers.append(replies.readline().strip())
        return answers


def test_valkey_refuses_commands_without_auth(stack: Stack) -> None:
    password = stack.layout.password(stack.layout.valkey_password).encode()
    without, wrong, right, after = _redis_reply(
        stack.ports.redis, b"GET anything", b"AUTH wrong", b"AUTH " + password, b"PING"
    )
    assert without.startswith(b"-NOAUTH"), without
    assert wrong.startswith(b"-WRONGPASS"), wrong
    assert (right, after) == (b"+OK", b"+PONG")


def _nats_connect(url: str) -> None:
    async def ignore(error: Exception) -> None:
        pass

    async def connect() -> None:
        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=5, error_cb=ignore)
        await nc.close()

    asyncio.run(connect())


def test_nats_refuses_a_connection_without_credentials(stack: Stack) -> None:
    port = stack.ports.nats
    for url in (f"nats://127.0.0.1:{port}", f"nats://docling:wrong@127.0.0.1:{port}"):
        with pytest.raises(NatsError, match="Authorization Violation"):
            _nats_connect(url)
    _nats_connect(stack.env()["NATS_URL"])


def test_no_password_on_a_command_line_in_a_log_or_in_what_the_launcher_shows(stack: Stack) -> None:
    secrets = passwords(stack.layout).values()
    shown = {
        "banner": banner(stack, detached=True),
        "stack.json": stack.layout.stack_info.read_text(),
        **{f"log {p.name}": p.read_text(errors="replace") for p in stack.layout.logs.glob("*.log")},
    }
    for name in INFRA:
        pid = stack.pid(name)
        assert pid is not None
        shown[f"argv of {name}"] = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    leaks = [(where, text) for where, text in shown.items() for secret in secrets if secret in text]
    assert not leaks


def test_a_cluster_from_before_passwords_is_migrated_at_its_next_start(tmp_path: Path) -> None:
    """A trusting pg_hba.conf and a role without a password (what the launcher made before): the
    next start gives the role the generated password, asks for it, and keeps the data."""
    stack = Stack(tmp_path, Ports.free(), components="postgres")
    url = stack.env()["DATABASE_URL"]
    try:
        stack.start()
        hba = postgres.plan(stack.layout).data_dir / "pg_hba.conf"
        asyncio.run(_execute(url, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)",
                             "ALTER ROLE docling PASSWORD NULL"))  # fmt: skip
        hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
        stack.stop_component("postgres")
        assert postgres.trusts(postgres.plan(stack.layout))  # the old kind of cluster, stopped
        stack.start_component("postgres")
        assert not postgres.trusts(postgres.plan(stack.layout))
        with pytest.raises(asyncpg.InvalidPasswordError):
            _pg_connect(stack.ports.postgres, None)
        assert asyncio.run(_fetch(url, "SELECT n FROM kept")) == 7
    finally:
        stack.purge()


async def _execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _fetch(url: str, query: str) -> object:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()
