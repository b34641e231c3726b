"""URL sources of the MCP server: public addresses only, after DNS and on every redirect, bounded.

Real HTTP servers on loopback: a "public" one on 127.0.0.2 (the test's policy admits that one
address, standing for the internet) that redirects, and an "internal" one on 127.0.0.1 that must
never be reached; it counts every request it gets.
"""

from __future__ import annotations

import http.server
import ipaddress
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from services.mcp_server.adapters.sources import SourceReader
from services.mcp_server.domain import SourceRefused, address_policy
from services.mcp_server.settings import McpServerSettings

PUBLIC_STAND_IN = "127.0.0.2"


@dataclass
class Served:
    url: str
    hits: list[str] = field(default_factory=list)


def serve(host: str, routes: dict[str, tuple[int, dict[str, str], bytes]], slow: bool = False):
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            if self.path == "/slow":
                return self._trickle()
            status, headers, body = routes.get(self.path, (404, {}, b""))
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _trickle(self) -> None:  # a byte every 0.2 s: each read is quick, the whole never ends
            self.send_response(200)
            self.send_header("Content-Type", "text/markdown")
            self.end_headers()
            for _ in range(300):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, Served(f"http://{host}:{httpd.server_address[1]}", hits)


@pytest.fixture(scope="module")
def internal() -> Iterator[Served]:
    httpd, served = serve("127.0.0.1", {"/varz": (200, {"Content-Type": "text/markdown"}, b"# secret")})
    yield served
    httpd.shutdown()


@pytest.fixture(scope="module")
def public(internal: Served) -> Iterator[Served]:
    def moved(to: str) -> tuple[int, dict[str, str], bytes]:
        return 302, {"Location": to}, b""

    routes = {
        "/doc.md": (200, {"Content-Type": "text/markdown"}, b"# Hello\n"),
        "/hop.md": moved("/doc.md"),
        "/to-loopback": moved(f"{internal.url}/varz"),
        "/to-localhost": moved(internal.url.replace("127.0.0.1", "localhost") + "/varz"),
        "/to-metadata": moved("http://169.254.169.254/latest/meta-data/"),
        "/to-private": moved("http://10.0.0.1/x"),
        "/to-mapped": moved(f"http://[::ffff:127.0.0.1]:{internal.url.rsplit(':', 1)[1]}/varz"),
        "/to-file": moved("file:///etc/passwd"),
        "/loop": moved("/loop"),
        "/big.md": (200, {"Content-Type": "text/markdown"}, b"x" * 64 * 1024),
    }
    httpd, served = serve(PUBLIC_STAND_IN, routes)
    yield served
    httpd.shutdown()


def reader(tmp_path: Path, **settings: object) -> SourceReader:
    values = {"allow_urls": True, "cache_dir": tmp_path, "allowed_roots": [], **settings}
    policy = address_policy([ipaddress.ip_network(f"{PUBLIC_STAND_IN}/32")])
    return SourceReader(McpServerSettings(**values), allowed=policy)


async def refusal(source_reader: SourceReader, url: str) -> str:
    try:
        with pytest.raises(SourceRefused) as refused:
            await source_reader.open(url)
    finally:
        await source_reader.close()
    return str(refused.value)


async def test_urls_are_off_by_default(tmp_path: Path, public: Served) -> None:
    default = SourceReader(McpServerSettings(cache_dir=tmp_path, allowed_roots=[]))
    before = len(public.hits)
    assert "does not fetch URLs" in await refusal(default, f"{public.url}/doc.md")
    assert len(public.hits) == before


async def test_a_public_document_and_a_redirect_within_public_addresses(
    tmp_path: Path, public: Served
) -> None:
    source_reader = reader(tmp_path)
    try:
        fetched = await source_reader.open(f"{public.url}/hop.md")
        assert fetched.path.read_bytes() == b"# Hello\n" and fetched.path.name == "doc.md"
    finally:
        await source_reader.close()


@pytest.mark.parametrize(
    "route", ["/to-loopback", "/to-localhost", "/to-metadata", "/to-private", "/to-mapped"]
)
async def test_a_redirect_to_an_internal_address_is_refused(
    route: str, tmp_path: Path, public: Served, internal: Served
) -> None:
    before = len(internal.hits)
    message = await refusal(reader(tmp_path), f"{public.url}{route}")
    assert "address this server may not fetch from" in message
    assert route in public.hits and len(internal.hits) == before  # never connected to the inside


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/varz",
        "http://localhost:{port}/varz",  # a name that resolves to loopback
        "http://[::1]:{port}/varz",
        "http://[::ffff:127.0.0.1]:{port}/varz",
        "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://0.0.0.0:{port}/varz",
    ],
)
async def test_an_internal_address_is_refused(url: str, tmp_path: Path, internal: Served) -> None:
    before = len(internal.hits)
    message = await refusal(reader(tmp_path), url.format(port=internal.url.rsplit(":", 1)[1]))
    assert "address this server may not fetch from" in message
    assert len(internal.hits) == before


async def test_other_schemes_and_endless_redirects_are_refused(tmp_path: Path, public: Served) -> None:
    assert "only http(s)" in await refusal(reader(tmp_path), f"{public.url}/to-file")
    assert "redirects more than 3 times" in await refusal(
        reader(tmp_path, url_max_redirects=3), f"{public.url}/loop"
    )
    assert "unsupported source scheme" in await refusal(reader(tmp_path), "ftp://example.com/a.md")


async def test_size_and_total_time_are_bounded(tmp_path: Path, public: Served) -> None:
    too_big = await refusal(reader(tmp_path, max_file_size_mb=0.01), f"{public.url}/big.md")
    assert "larger than 0.01 MB" in too_big
    too_slow = await refusal(reader(tmp_path, url_total_timeout_s=1.0), f"{public.url}/slow")
    assert "took longer than 1 s" in too_slow
