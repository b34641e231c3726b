"""What ``submit``/``convert`` accept as a document: a path (``Path`` or ``str``), bytes, or a binary
file object. Each becomes a name and a way to open its bytes again (a retried upload starts over)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

Source = str | os.PathLike[str] | bytes | BinaryIO


@dataclass(frozen=True)
class Upload:
    filename: str
    open: Callable[[], BinaryIO]


def upload_of(source: Source, filename: str | None = None) -> Upload:
    """The upload for ``source``; ``filename`` names bytes and nameless file objects (required then)."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        return Upload(filename or path.name, lambda: path.open("rb"))
    data = source if isinstance(source, bytes) else source.read()
    name = filename or Path(str(getattr(source, "name", "") or "")).name
    if not name:
        raise ValueError(
            "give a filename= for bytes or a file object without a name (for example report.docx)"
        )
    return Upload(name, lambda: io.BytesIO(data))
