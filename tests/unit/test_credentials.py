"""Passwords in connection URLs (runtime/urls.py), read from files (runtime/settings.py), and kept
off the command lines of PostgreSQL's tools (services/backup/adapters/pgtools.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from devstack.credentials import ensure_secret
from runtime.secret_files import write_private
from runtime.settings import CommonSettings
from runtime.urls import redacted, with_password, without_password
from services.backup.adapters.pgtools import hide_password

NODES = "nats://docling@127.0.0.1:4222,nats://docling@127.0.0.1:4223"


def test_a_password_goes_into_every_address_and_comes_out_again() -> None:
    url = with_password("postgresql://docling@127.0.0.1:5432/docling", "a/b:c")
    assert url == "postgresql://docling:a%2Fb%3Ac@127.0.0.1:5432/docling"
    assert without_password(url) == ("postgresql://docling@127.0.0.1:5432/docling", "a/b:c")
    assert with_password(NODES, "pw") == "nats://docling:pw@127.0.0.1:4222,nats://docling:pw@127.0.0.1:4223"
    assert with_password("postgresql://u:own@h/d", "other") == "postgresql://u:own@h/d"  # its own wins
    assert with_password(NODES, None) == NODES
    assert without_password(NODES.split(",")[0]) == (NODES.split(",")[0], None)


def test_redacted_hides_every_password_and_nothing_else() -> None:
    assert redacted(with_password(NODES, "pw")) == NODES.replace("docling@", "docling:***@")
    assert redacted("redis://:pw@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redacted("http://127.0.0.1:3000") == "http://127.0.0.1:3000"


def test_the_services_read_passwords_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, secret in (("db", "d1"), ("nats", "n1"), ("redis", "r1")):
        (tmp_path / name).write_text(secret + "\n")
        monkeypatch.setenv(
            f"{name.upper() if name != 'db' else 'DATABASE'}_PASSWORD_FILE", str(tmp_path / name)
        )
    monkeypatch.setenv("NATS_URL", NODES)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    settings = CommonSettings()
    assert settings.database_url == "postgresql://docling:d1@127.0.0.1:5432/docling"
    assert settings.nats_url == with_password(NODES, "n1")
    assert settings.redis_connection() == {"host": "127.0.0.1", "port": 6379, "password": "r1"}
    monkeypatch.setenv("REDIS_PASSWORD", "given")
    assert CommonSettings().redis_password == "given"


def test_without_files_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "NATS_URL", "REDIS_PASSWORD", "DATABASE_PASSWORD_FILE", "NATS_PASSWORD_FILE",
                 "REDIS_PASSWORD_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    settings = CommonSettings()
    assert (settings.database_url, settings.nats_url, settings.redis_password) == (
        "postgresql://docling@127.0.0.1:5432/docling",
        "nats://127.0.0.1:4222",
        None,
    )


def test_pg_tools_get_the_password_in_their_environment_not_their_arguments() -> None:
    argv, env = hide_password(["pg_dump", "-Fc", "-d", "postgresql://docling:s3@127.0.0.1:5/docling"])
    assert argv == ["pg_dump", "-Fc", "-d", "postgresql://docling@127.0.0.1:5/docling"]
    assert env == {"PGPASSWORD": "s3"}
    assert hide_password(["pg_restore", "--list", "x.dump"]) == (["pg_restore", "--list", "x.dump"], {})


def test_secret_files_are_private_from_the_start_and_kept(tmp_path: Path) -> None:
    path = ensure_secret(tmp_path / "secrets" / "s")
    first = path.read_text()
    assert ensure_secret(path).read_text() == first and len(first.strip()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    written = write_private(tmp_path / "conf", "requirepass x\n")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600 and written.read_text() == "requirepass x\n"


def test_the_nats_login_is_given_once_for_every_node_of_the_cluster() -> None:
    from runtime import bus

    addresses, credentials = bus.login(
        "nats://docling:p%40ss@127.0.0.1:4222, nats://docling:p%40ss@127.0.0.1:4223"
    )
    assert addresses == ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]  # none left in an address
    assert credentials is not None and (credentials.username, credentials.password) == ("docling", "p@ss")
    assert bus.login("nats://127.0.0.1:4222") == (["nats://127.0.0.1:4222"], None)
