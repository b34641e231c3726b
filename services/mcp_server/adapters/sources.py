"""Turns a tool's `source` (a path or a URL) into a local file a worker may read, or refuses it.

Paths are resolved (symlinks, `..`) before they are checked against the allowed roots. URLs (off unless
MCP_SERVER_ALLOW_URLS) are downloaded into a private spool folder from public addresses only (checked
after DNS and on every redirect, see `public_http`), under a size and a total-time limit. Either way the
content is hashed for the document key.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx2

from services.mcp_server.adapters.public_http import AddressPolicy, get_following, public_client
from services.mcp_server.domain import SourceRefused, address_policy, is_within_roots
from services.mcp_server.settings import McpServerSettings

_CHUNK = 1 << 20
_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class LocalSource:
    path: Path  # the resolved file the worker converts
    sha256: str
    size: int
    spool: Path | None = None  # a download's private folder, removed by `release`

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()


class SourceReader:
    def __init__(self, settings: McpServerSettings, allowed: AddressPolicy | None = None) -> None:
        self.settings = settings
        self.roots = [Path(os.path.realpath(root)) for root in settings.allowed_roots]
        self.spool = settings.cache_dir / "downloads"
        policy = allowed or address_policy(settings.url_allowed_networks)
        self.http = public_client(settings.url_timeout_s, policy)

    async def close(self) -> None:
        await self.http.aclose()

    async def open(self, source: str) -> LocalSource:
        source = source.strip().strip("\"'")
        parts = urlsplit(source)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            return await self._download(source)
        if scheme == "file":
            return await self._local(unquote(parts.path))
        if scheme and len(scheme) > 1:
            raise SourceRefused(f"unsupported source scheme {scheme!r}: give a path or an http(s) URL")
        return await self._local(source)

    def release(self, source: LocalSource) -> None:
        if source.spool is not None:
            shutil.rmtree(source.spool, ignore_errors=True)

    async def _local(self, raw: str) -> LocalSource:
        if not self.roots:
            raise SourceRefused("this server reads no local paths (MCP_SERVER_ALLOWED_ROOTS is empty)")
        resolved, size = await asyncio.to_thread(self._stat_local, raw)
        self._check_size(size)
        try:
            return LocalSource(resolved, await asyncio.to_thread(_sha256_of, resolved), size)
        except OSError:
            raise SourceRefused("the file cannot be read") from None

    def _stat_local(self, raw: str) -> tuple[Path, int]:
        """The real path of ``raw`` and its size, refused when outside the roots or not a file."""
        resolved = Path(os.path.realpath(os.path.expanduser(raw)))
        if not is_within_roots(resolved, self.roots):
            raise SourceRefused("the path is outside the folders this server may read")
        try:
            size = resolved.stat().st_size
        except OSError:
            raise SourceRefused("no such file") from None
        if not resolved.is_file():
            raise SourceRefused("not a regular file")
        return resolved, size

    def _check_size(self, size: int) -> None:
        if size > self.settings.max_file_bytes:
            raise SourceRefused(f"the document is larger than {self.settings.max_file_size_mb:g} MB")

    async def _download(self, url: str) -> LocalSource:
        if not self.settings.allow_urls:
            raise SourceRefused("this server does not fetch URLs (MCP_SERVER_ALLOW_URLS=false)")
        self.spool.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=self.spool))
        try:
            async with asyncio.timeout(self.settings.url_total_timeout_s):
                return await self._fetch_into(url, folder)
        except TimeoutError:
            shutil.rmtree(folder, ignore_errors=True)
            limit = self.settings.url_total_timeout_s
            raise SourceRefused(f"downloading the source took longer than {limit:g} s") from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    async def _fetch_into(self, url: str, folder: Path) -> LocalSource:
        digest, size = hashlib.sha256(), 0
        try:
            async with get_following(self.http, url, self.settings.url_max_redirects) as response:
                if response.status_code != 200:
                    raise SourceRefused(f"downloading the source failed: HTTP {response.status_code}")
                self._check_size(int(response.headers.get("content-length") or 0))
                path = folder / _download_name(str(response.url), response.headers)
                with path.open("wb") as out:
                    async for chunk in response.aiter_bytes(_CHUNK):
                        size += len(chunk)
                        self._check_size(size)
                        digest.update(chunk)
                        out.write(chunk)
        except httpx2.HTTPError as exc:
            raise SourceRefused(f"downloading the source failed: {type(exc).__name__}") from None
        return LocalSource(path, digest.hexdigest(), size, spool=folder)


def _download_name(url: str, headers: httpx2.Headers) -> str:
    """The file name docling sees (its suffix selects the format): the server's, the URL's, or the type's."""
    match = _FILENAME.search(headers.get("content-disposition", ""))
    name = unquote(match.group(1)) if match else unquote(PurePosixPath(urlsplit(url).path).name)
    name = PurePosixPath(name.replace("\\", "/")).name.lstrip(".") or "document"
    if not PurePosixPath(name).suffix:
        content_type = headers.get("content-type", "").split(";")[0].strip()
        name += mimetypes.guess_extension(content_type) or ""
    return name[-200:]


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
