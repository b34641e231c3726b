"""How uvicorn serves the API: forwarded headers only from API_TRUSTED_PROXIES; the read limits."""

from __future__ import annotations

from services.api.serving import PatientProtocol, uvicorn_options
from services.api.settings import ApiSettings


def test_forwarded_headers_are_ignored_by_default() -> None:
    options = uvicorn_options(ApiSettings())
    assert options["proxy_headers"] is False  # uvicorn's own default trusts 127.0.0.1


def test_forwarded_headers_are_believed_from_the_trusted_proxies_only() -> None:
    options = uvicorn_options(ApiSettings(trusted_proxies="10.0.0.5, 10.1.0.0/16"))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.0.5", "10.1.0.0/16"]


def test_the_protocol_carries_the_configured_read_limits() -> None:
    protocol = uvicorn_options(ApiSettings(header_timeout_s=3, body_timeout_s=7))["http"]
    assert issubclass(protocol, PatientProtocol)
    assert (protocol.header_timeout_s, protocol.body_timeout_s) == (3, 7)
