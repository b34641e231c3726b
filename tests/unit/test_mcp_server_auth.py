"""The MCP server's clients: known secrets only, each its own identity; the address policy of URL sources."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest

from devstack.credentials import ensure_secret, read_secret
from services.converter.settings import ConverterSettings
from services.mcp_server.auth import Clients
from services.mcp_server.domain import address_policy, is_public_address
from services.mcp_server.settings import McpServerSettings


def test_a_server_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="MCP_SERVER_TOKEN"):
        Clients([" ", ""])


def test_only_a_known_bearer_secret_identifies_a_client() -> None:
    clients = Clients(["alpha-secret", "beta-secret"])
    alpha = clients.identify({"authorization": "Bearer alpha-secret"})
    beta = clients.identify({"authorization": "bearer beta-secret"})
    assert alpha and beta and alpha != beta
    for header in ["", "Bearer", "Bearer alpha", "Basic alpha-secret", "Bearer alpha-secretx"]:
        assert clients.identify({"authorization": header}) is None, header
    assert clients.identify(None) is None and clients.identify({}) is None


def test_the_secrets_come_from_the_variable_and_the_file(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "tokens").write_text("from-file\n\nsecond\n")
    monkeypatch.setenv("MCP_SERVER_TOKEN", "from-env")
    monkeypatch.setenv("MCP_SERVER_TOKEN_FILE", str(tmp_path / "tokens"))
    assert McpServerSettings().tokens() == ["from-env", "from-file", "second"]
    assert "from-env" not in repr(McpServerSettings())
    monkeypatch.delenv("MCP_SERVER_TOKEN")
    assert ConverterSettings().mcp_token() == "from-file"  # the converter presents the first
    monkeypatch.delenv("MCP_SERVER_TOKEN_FILE")
    assert ConverterSettings().mcp_token() == ""  # no secret: no header (the official server)


def test_the_launcher_generates_a_private_secret_once(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "mcp-token"
    first = read_secret(ensure_secret(path))
    path.chmod(0o644)  # loosened by hand: put back
    assert read_secret(ensure_secret(path)) == first and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::7f00:1", False),
        ("2002:7f00:1::", False),
        ("224.0.0.1", False),
        ("not-an-address", False),
    ],
)
def test_only_public_addresses_are_fetched_from(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_an_operator_may_admit_an_internal_network() -> None:
    allowed = address_policy([ipaddress.ip_network("10.1.2.0/24")])
    assert allowed("10.1.2.7") and allowed("8.8.8.8")
    assert not allowed("10.1.3.7") and not allowed("127.0.0.1")
