"""How uvicorn serves the API: which peers may set forwarded headers, and how slow a client may be.

uvicorn has no read timeouts of its own: a client that sends half its headers, or stops in the
middle of a body, holds its connection for ever. :class:`PatientProtocol` (uvicorn's httptools
protocol plus two timers) drops such a connection: the headers must be complete within
``API_HEADER_TIMEOUT_S`` of the connection (or of the previous answer on it), and while a body is
incomplete no more than ``API_BODY_TIMEOUT_S`` may pass without a byte of it (an idle limit: a
large upload on a slow link keeps going as long as it moves). Time when the API itself stopped
reading (flow control, the app busy with earlier chunks) is never held against the client.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from services.api.settings import ApiSettings

log = logging.getLogger(__name__)


class PatientProtocol(HttpToolsProtocol):
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm(self.header_timeout_s, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        cycle = self.cycle  # None (or the previous one) for an upgrade, which is not ours to time
        if cycle is not None and cycle.more_body and not cycle.response_complete:
            self._arm(self.body_timeout_s, "body")  # more_body stays set until the body's end

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.body_timeout_s, "body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(self.header_timeout_s, "headers")

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, seconds, part)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, seconds: float, part: str) -> None:
        if self.flow.read_paused:  # we stopped reading, not the client: wait on
            self._arm(seconds, part)
            return
        log.info("slow client dropped", extra={"waiting_for": part, "limit_s": seconds})
        self.transport.close()


def protocol_for(settings: ApiSettings) -> type[PatientProtocol]:
    return type(
        "ConfiguredPatientProtocol",
        (PatientProtocol,),
        {"header_timeout_s": settings.header_timeout_s, "body_timeout_s": settings.body_timeout_s},
    )


def uvicorn_options(settings: ApiSettings) -> dict[str, Any]:
    """Forwarded headers (``X-Forwarded-For``, ``-Proto``) only from ``API_TRUSTED_PROXIES``."""
    trusted = [peer.strip() for peer in settings.trusted_proxies.split(",") if peer.strip()]
    return {
        "host": settings.bind_host,
        "port": settings.port,
        "http": protocol_for(settings),
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "log_config": None,
    }
