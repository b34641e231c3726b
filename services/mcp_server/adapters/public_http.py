"""An HTTP client that reaches public addresses only, whatever a URL, its DNS or a redirect says.

The check sits where the connection is made: the host is resolved once, every address it resolves
to must pass the policy, and the socket connects to the checked address (TLS still verifies the
host name). So a name that resolves to 127.0.0.1, a DNS answer that changes between check and use,
and a redirect to an internal address are all refused the same way. Redirects are followed by
:func:`get_following`, one hop at a time, each hop's scheme checked too. Proxies from the
environment are ignored (a proxy would make the connection, not us).
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpcore2
import httpx2

from services.mcp_server.domain import SourceRefused, is_public_address

AddressPolicy = Callable[[str], bool]
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class PublicOnlyBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, allowed: AddressPolicy) -> None:
        self.inner = httpcore2.AnyIOBackend()
        self.allowed = allowed

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        address = await self.checked_address(host, port)
        return await self.inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def checked_address(self, host: str, port: int) -> str:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise SourceRefused("the source's host name does not resolve") from None
        addresses = [str(info[4][0]) for info in found]
        if not addresses or not all(self.allowed(address) for address in addresses):
            raise SourceRefused("the source resolves to an address this server may not fetch from")
        return addresses[0]

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        raise SourceRefused("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PublicOnlyTransport(httpx2.AsyncHTTPTransport):
    """httpx's own transport over a connection pool that connects through :class:`PublicOnlyBackend`."""

    def __init__(self, allowed: AddressPolicy) -> None:  # not super().__init__: it builds a pool of its own
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=_ssl_context(), network_backend=PublicOnlyBackend(allowed)
        )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Built once (tens of ms of CPU each time); certificates verified, no environment settings."""
    return httpx2.create_ssl_context(trust_env=False)


def public_client(timeout_s: float, allowed: AddressPolicy = is_public_address) -> httpx2.AsyncClient:
    """A client for URL sources: no redirects of its own, no proxies, public addresses only."""
    return httpx2.AsyncClient(
        timeout=timeout_s, follow_redirects=False, trust_env=False, transport=PublicOnlyTransport(allowed)
    )


def checked_url(url: httpx2.URL) -> httpx2.URL:
    if url.scheme not in ("http", "https") or not url.host:
        raise SourceRefused("only http(s) URLs are fetched")
    return url


@asynccontextmanager
async def get_following(
    client: httpx2.AsyncClient, url: str, max_redirects: int
) -> AsyncIterator[httpx2.Response]:
    """GET ``url``, following up to ``max_redirects`` redirects, each target checked again."""
    target = checked_url(httpx2.URL(url))
    for _ in range(max_redirects + 1):
        async with client.stream("GET", target) as response:
            location = response.headers.get("location")
            if response.status_code not in REDIRECTS or not location:
                yield response
                return
        target = checked_url(target.join(location))
    raise SourceRefused(f"the source redirects more than {max_redirects} times")
