"""The handlers: what each tool does (read the source, answer from the cache, or convert on a worker
and cache the result). ``entrypoint`` turns an MCP tool call into a call here."""

from __future__ import annotations

import asyncio
import importlib.metadata
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from services.mcp_server.adapters import caps, metrics
from services.mcp_server.adapters.pool import WorkerPool
from services.mcp_server.adapters.sources import LocalSource, SourceReader
from services.mcp_server.domain import (
    ConvertedDocument,
    DocumentCache,
    DocumentFailed,
    DocumentTooLarge,
    ProgressTrack,
    ToolFailure,
    WorkerLost,
    document_key,
)
from services.mcp_server.settings import McpServerSettings

Report = Callable[[float, str], Awaitable[None]]


@dataclass(frozen=True)
class Conversion:
    from_cache: bool
    document_key: str
    pipeline: str


class ProgressRelay:
    """Stage reports arrive synchronously from the pool; they leave, in order, as awaited notifications."""

    def __init__(self, report: Report) -> None:
        self.track = ProgressTrack()
        self.outbox: asyncio.Queue[tuple[float, str] | None] = asyncio.Queue()
        self.sender = asyncio.create_task(self._send(report))

    def push(self, stage: str, done: int = 0, total: int = 0) -> None:
        point = self.track.advance(stage, done, total)
        if point is not None:
            self.outbox.put_nowait(point)

    async def close(self) -> None:
        self.outbox.put_nowait(None)
        await self.sender

    async def _send(self, report: Report) -> None:
        while (point := await self.outbox.get()) is not None:
            try:
                await report(*point)
            except Exception:  # a client that stopped listening still gets its result
                pass


class DocumentService:
    def __init__(self, settings: McpServerSettings, pool: WorkerPool, reader: SourceReader) -> None:
        self.settings = settings
        self.pool = pool
        self.reader = reader
        self.cache = DocumentCache(settings.cache_max_documents, settings.cache_max_bytes)
        self.context = {
            "server": "docling-jobs",
            "pdf_pipeline": settings.pdf_pipeline,
            "versions": {name: _version(name) for name in ("docling-slim", "docling-core")},
        }
        self._inflight: dict[str, asyncio.Task[ConvertedDocument]] = {}
        self._running: set[str] = set()  # conversions in flight that a worker has taken

    async def convert(self, source: str, report: Report, client: str) -> Conversion:
        """Convert for ``client``: its cache entries and conversions in flight are its own."""
        relay = ProgressRelay(report)
        try:
            relay.push("received")
            local = await self.reader.open(source)
            key = document_key(local.sha256, local.suffix, self.context)
            scoped = _scoped(client, key)
            cached = self.cache.get(scoped)
            if cached is not None:
                self.reader.release(local)
                metrics.CACHE_HITS.inc()
                relay.push("done")
                return Conversion(True, key, cached.pipeline)
            shared = scoped in self._inflight
            if shared:  # joins the conversion in flight, and learns whether it waits for a worker
                self.reader.release(local)
                relay.push("started" if scoped in self._running else "queued")
            else:
                self._inflight[scoped] = asyncio.create_task(self._convert_new(scoped, local, relay))
            document = await asyncio.shield(self._inflight[scoped])
            relay.push("done")
            return Conversion(shared, key, document.pipeline)
        finally:
            await relay.close()

    async def _convert_new(self, scoped: str, local: LocalSource, relay: ProgressRelay) -> ConvertedDocument:
        started = time.monotonic()
        relay.push("queued")

        def report(stage: str, done: int = 0, total: int = 0) -> None:
            if stage == "started":  # a worker took it
                self._running.add(scoped)
            relay.push(stage, done, total)

        try:
            await asyncio.to_thread(caps.check, local.path, self.settings.caps())
            document = await self.pool.convert(str(local.path), report)
            _check_result(document, self.settings.max_result_mb)
        except WorkerLost as exc:
            metrics.CONVERSIONS.labels(exc.reason, "unknown").inc()
            raise
        except DocumentFailed:
            metrics.CONVERSIONS.labels("failed", "unknown").inc()
            raise
        finally:
            self._inflight.pop(scoped, None)
            self._running.discard(scoped)
            self.reader.release(local)
        metrics.CONVERSIONS.labels("ok", document.pipeline).inc()
        metrics.CONVERSION_SECONDS.labels(document.pipeline).observe(time.monotonic() - started)
        self.cache.put(scoped, document)
        self._observe_cache()
        return document

    def document(self, key: str, client: str) -> ConvertedDocument:
        """The client's own document; another client's looks like none."""
        document = self.cache.get(_scoped(client, key))
        if document is None:
            raise ToolFailure(f"document-key: {key} is not found. Convert the document first.")
        return document

    def holds(self, key: str, client: str) -> bool:
        return _scoped(client, key) in self.cache

    def keys(self, client: str) -> list[str]:
        prefix = _scoped(client, "")
        return [scoped.removeprefix(prefix) for scoped in self.cache.keys() if scoped.startswith(prefix)]

    def drop(self, key: str, client: str) -> bool:
        dropped = self.cache.drop(_scoped(client, key))
        self._observe_cache()
        return dropped

    async def save(self, key: str, client: str) -> tuple[str, str]:
        """docling-mcp's `save_docling_document`: `<key>.md` (72 columns) and `<key>.json` in CACHE_DIR."""
        document = self.document(key, client)
        folder = self.settings.cache_dir
        md_file, json_file = folder / f"{key}.md", folder / f"{key}.json"
        await asyncio.to_thread(_save, document, md_file, json_file)
        return str(md_file), str(json_file)

    def _observe_cache(self) -> None:
        metrics.CACHE_DOCUMENTS.set(len(self.cache))
        metrics.CACHE_BYTES.set(self.cache.size_bytes)


def _check_result(document: ConvertedDocument, max_mb: float) -> None:
    if document.size_bytes > max_mb * 2**20:
        raise DocumentTooLarge(f"its result would be larger than {max_mb:g} MB")


def _scoped(client: str, key: str) -> str:
    """The cache's own key: the client's id, then the document key it was given."""
    return f"{client}/{key}"


def _save(document: ConvertedDocument, md_file: Path, json_file: Path) -> None:
    from docling_core.types.doc.document import DoclingDocument  # light (pydantic); only this tool needs it

    md_file.parent.mkdir(parents=True, exist_ok=True)
    DoclingDocument.model_validate_json(document.json).save_as_markdown(filename=md_file, text_width=72)
    json_file.write_text(document.json, encoding="utf-8")


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
