"""Pure rules of the MCP server: document keys, the bounded cache, allowed roots, PDF pipeline, progress.

Nothing here does I/O; paths arrive already resolved.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

PdfPipeline = Literal["standard", "native"]


# image inputs: converted as scans (a PDF page each, read by OCR)
IMAGES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})


class ToolFailure(Exception):
    """A failure the caller should read: the tool answers `is_error=True` with this message."""


class SourceRefused(ToolFailure):
    """The source may not be read (outside the allowed roots, too large, unsupported scheme)."""


class DocumentFailed(ToolFailure):
    """Docling could not convert the document (corrupt file, no text layer, unsupported format)."""


class DocumentOverLimit(DocumentFailed):
    """The document overran one of the server's limits; the message carries its application code
    as "[E2xx] ..." so the converter can tell the user what to do."""

    code = "E205"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.code}] {message}")


class DocumentTooLarge(DocumentOverLimit):
    """Memory, archive expansion, rows, cells, paragraphs or result size past the limit."""

    code = "E209"


class DocumentTooComplex(DocumentOverLimit):
    """CPU time, wall time or nesting depth past the limit."""

    code = "E210"


class WorkerLost(ToolFailure):
    """The worker converting the document crashed or overran the time limit; it was replaced."""

    def __init__(self, message: str, reason: Literal["crash", "timeout", "memory", "cpu"] = "crash") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ConvertedDocument:
    """What a worker hands back: every export, so the server never needs docling itself."""

    markdown: str
    html: str
    json: str
    pipeline: str  # "simple" for office/web formats, else the PDF pipeline that ran
    pages: int

    @property
    def size_bytes(self) -> int:
        return len(self.markdown) + len(self.html) + len(self.json)


def document_key(content_sha256: str, suffix: str, context: dict[str, object]) -> str:
    """docling-mcp's scheme: a hash of the content, the format (suffix) and the conversion setup."""
    key_data = {"conversion": context, "content": content_sha256, "format": suffix.lower()}
    return hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:32]


class DocumentCache:
    """Least-recently-used documents, bounded both by count and by total size."""

    def __init__(self, max_documents: int, max_bytes: int) -> None:
        self.max_documents = max_documents
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, ConvertedDocument] = OrderedDict()
        self.size_bytes = 0

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        return list(self._items)

    def get(self, key: str) -> ConvertedDocument | None:
        document = self._items.get(key)
        if document is not None:
            self._items.move_to_end(key)
        return document

    def put(self, key: str, document: ConvertedDocument) -> list[str]:
        """Store (or refresh) a document; returns the keys evicted to make room for it."""
        self.drop(key)
        self._items[key] = document
        self.size_bytes += document.size_bytes
        evicted = []
        while len(self._items) > 1 and (
            len(self._items) > self.max_documents or self.size_bytes > self.max_bytes
        ):
            old_key, old = self._items.popitem(last=False)
            self.size_bytes -= old.size_bytes
            evicted.append(old_key)
        return evicted

    def drop(self, key: str) -> bool:
        document = self._items.pop(key, None)
        if document is None:
            return False
        self.size_bytes -= document.size_bytes
        return True


def is_within_roots(resolved: PurePath, roots: list[PurePath]) -> bool:
    """True when an already resolved (absolute, symlink-free, no `..`) path lies under one of the roots."""
    if not resolved.is_absolute() or ".." in resolved.parts:
        return False
    return any(resolved == root or root in resolved.parents for root in roots)


def is_public_address(address: str) -> bool:
    """Whether a URL source may be fetched from this IP: globally routable unicast only.

    Refuses loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, the
    cloud metadata address among them, fe80::/10), shared (100.64/10), reserved, multicast and
    unspecified addresses, and IPv4 addresses hidden in IPv6 (::ffff:127.0.0.1, 64:ff9b::/96).
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None or ip in ipaddress.ip_network("64:ff9b::/96"):
            return False
    return ip.is_global and not ip.is_multicast


def address_policy(extra_networks: list) -> Callable[[str], bool]:
    """Public addresses, plus any address inside the operator's ``extra_networks``."""

    def allowed(address: str) -> bool:
        if is_public_address(address):
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in extra_networks)

    return allowed


def choose_pdf_pipeline(mode: str, standard_error: str | None) -> PdfPipeline:
    """`auto` takes docling's standard pipeline when its models load, else the model-free native one."""
    if mode == "native":
        return "native"
    if standard_error is None:
        return "standard"
    if mode == "standard":
        raise DocumentFailed(f"the standard PDF pipeline is configured but cannot run: {standard_error}")
    return "native"


# Progress is reported in percent; each stage owns a band, pages fill the conversion band.
_STAGES: dict[str, tuple[float, str]] = {
    "received": (2.0, "source received"),
    "queued": (5.0, "waiting for a worker"),
    "started": (10.0, "conversion started"),
    "build": (15.0, "reading the document"),
    "assemble": (85.0, "assembling the document"),
    "enrich": (88.0, "enriching the document"),
    "export": (92.0, "exporting Markdown, HTML and JSON"),
    "done": (100.0, "converted"),
}
_PAGES_FROM, _PAGES_TO = 15.0, 85.0


def progress_point(stage: str, done: int = 0, total: int = 0) -> tuple[float, str]:
    """(percent, message) for a stage, or for `page` with `done` of `total` pages."""
    if stage == "page" and total > 0:
        share = min(done, total) / total
        return _PAGES_FROM + share * (_PAGES_TO - _PAGES_FROM), f"page {min(done, total)} of {total}"
    return _STAGES.get(stage, (0.0, stage))


class ProgressTrack:
    """Turns stage reports into a never-decreasing series of (percent, message)."""

    def __init__(self) -> None:
        self.last = -1.0

    def advance(self, stage: str, done: int = 0, total: int = 0) -> tuple[float, str] | None:
        percent, message = progress_point(stage, done, total)
        if percent <= self.last:
            return None
        self.last = percent
        return percent, message
