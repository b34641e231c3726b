"""Pure rules of the API's edge; no I/O here.

- SSE resumption: how ``Last-Event-ID`` is read, whether a client takes gzip.
- Uploads: the file's name, its first bytes, its size; a result's download name.
- Rate limits: the sliding-window policy, the decision, the response headers (the Redis adapter makes
  the same decision in one Lua script; the in-memory fallback calls ``slide`` with an injected clock).
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from contracts import formats

MAX_EVENT_ID = 2**31 - 1  # event numbers are PostgreSQL integers (event_archive.job_seq)


def parse_last_event_id(raw: str | None) -> int | None:
    """``Last-Event-ID`` (or ``after``) is the number of the last event seen: 0 to ``MAX_EVENT_ID``.

    None for anything else (the caller answers 400 E100).
    """
    if raw is None or raw.strip() == "":
        return 0
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_EVENT_ID)) or int(raw) > MAX_EVENT_ID:
        return None
    return int(raw)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (RFC 9110: listed, or ``*``, with a q above 0)."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return not params.strip() or float(q) > 0
            except ValueError:
                return False
    return False


# uploads

MAX_FILENAME_BYTES = 255  # most file systems' limit on one name, in UTF-8 bytes (so at most 255 characters)
HEAD_BYTES = 8192  # how much of the start of a file the content check looks at

ZIP_TYPES = formats.ZIP_TYPES
TEXT_TYPES = frozenset({".html", ".htm", ".xhtml", ".md", ".markdown", ".adoc", ".asciidoc", ".csv"})
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
# each image format's first bytes (WebP: a RIFF container whose form type is WEBP)
IMAGE_MAGICS: dict[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".tif": (b"II*\x00", b"MM\x00*"),
    ".tiff": (b"II*\x00", b"MM\x00*"),
    ".bmp": (b"BM",),
    ".webp": (b"RIFF",),
}
# starts of binary formats a text document never begins with
BINARY_MAGICS = (
    ZIP_MAGIC,
    PDF_MAGIC,
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"MZ",
    b"\x7fELF",
    b"\xd0\xcf\x11\xe0",
    b"\x1f\x8b",
    b"Rar!",
    b"7z\xbc\xaf",
)


def _hostile_char(char: str) -> bool:
    """Control characters (C0, DEL, C1) and invisible format characters such as the bidi overrides
    that make ``cod.exe`` look like ``exe.doc``."""
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def filename_problem(name: str) -> str | None:
    """E109 when the client's file name is not a plain, reasonable base name; else None.

    Refused, never repaired: a path (``/``, ``\\``), a double quote (it ends the header value),
    control or invisible characters, a name that is only an extension or starts with a dot,
    surrounding blanks, more than 255 UTF-8 bytes (hence more than 255 characters).
    """
    if not name or name != name.strip() or name.startswith("."):
        return "E109"
    if "/" in name or "\\" in name or '"' in name or name.endswith("."):
        return "E109"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        return "E109"
    if any(_hostile_char(c) for c in name) or unicodedata.normalize("NFC", name) != name:
        return "E109"
    return None


def type_problem(name: str) -> str | None:
    """E103 when the extension is not one the system converts."""
    return None if formats.is_supported(name) else "E103"


def content_problem(name: str, head: bytes) -> str | None:
    """E111 when the first bytes contradict the extension (magic bytes); None when they agree."""
    ext = formats.extension_of(name)
    if ext in ZIP_TYPES:
        return None if head.startswith(ZIP_MAGIC) else "E111"
    if ext == ".pdf":
        return None if PDF_MAGIC in head[:1024] else "E111"
    if ext in IMAGE_MAGICS:
        webp_form = ext != ".webp" or head[8:12] == b"WEBP"
        return None if head.startswith(IMAGE_MAGICS[ext]) and webp_form else "E111"
    if ext in TEXT_TYPES:
        if b"\x00" in head or head.startswith(BINARY_MAGICS):
            return "E111"
    return None


def size_problem(size: int, limit: int) -> str | None:
    if size == 0:
        return "E102"
    if size > limit:
        return "E101"
    return None


def result_disposition(filename: str | None, fmt: formats.ResultFormat) -> str:
    """``Content-Disposition`` for a result: the upload's name with the format's suffix (RFC 6266:
    an ASCII ``filename`` for old clients, the exact UTF-8 name in ``filename*``)."""
    stem = (filename or "").rsplit(".", 1)[0] or "result"
    name = f"{stem}{formats.RESULT_SUFFIXES[fmt]}"
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# rate limits


@dataclass(frozen=True)
class Policy:
    endpoint: str
    limit: int  # requests accepted per window
    window_s: int

    @classmethod
    def parse(cls, endpoint: str, spec: str) -> Policy:
        """``"30/60"``: 30 requests per 60 seconds."""
        limit, _, window = spec.partition("/")
        policy = cls(endpoint, int(limit), int(window or 60))
        if policy.limit < 1 or policy.window_s < 1:
            raise ValueError(f"rate limit {spec!r} for {endpoint}: both numbers must be positive")
        return policy


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after_s: float  # 0 when allowed: else until the oldest request in the window leaves it


def slide(stamps: list[float], now: float, policy: Policy) -> tuple[Decision, list[float]]:
    """Decide one request given the times of the accepted ones; returns the new list of times."""
    live = [t for t in stamps if t > now - policy.window_s]
    if len(live) < policy.limit:
        live.append(now)
        return Decision(True, policy.limit - len(live), 0.0), live
    return Decision(False, 0, max(0.0, live[0] + policy.window_s - now)), live


def headers(policy: Policy, decision: Decision) -> dict[str, str]:
    """``RateLimit``/``RateLimit-Policy`` (draft-ietf-httpapi-ratelimit-headers), plus ``Retry-After``
    when refused. Seconds are rounded up, never to 0 while refused."""
    reset = max(1, math.ceil(decision.retry_after_s)) if not decision.allowed else policy.window_s
    out = {
        "RateLimit-Policy": f'"{policy.endpoint}";q={policy.limit};w={policy.window_s}',
        "RateLimit": f'"{policy.endpoint}";r={decision.remaining};t={reset}',
    }
    if not decision.allowed:
        out["Retry-After"] = str(reset)
    return out
