"""The upload store on a real disk: streamed in, hashed as written, atomic, never half a file."""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import nullcontext
from pathlib import Path, PurePosixPath

import pytest

from services.ingest.adapters.files import UploadStore

RELATIVE = PurePosixPath("ab") / "abcdef.md"


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob(".incoming-*")]


def test_bytes_written_in_chunks_are_hashed_and_kept_whole(tmp_path: Path) -> None:
    store, chunks = UploadStore(tmp_path), [b"# a title\n", b"some text\n" * 1000, b"the end\n"]
    with store.incoming(RELATIVE) as incoming:
        for chunk in chunks:
            incoming.write(chunk)
        assert not (tmp_path / RELATIVE).exists()  # nothing in place before keep()
        assert incoming.size == sum(map(len, chunks))
        assert incoming.sha256 == hashlib.sha256(b"".join(chunks)).hexdigest()
        kept = incoming.keep()
    assert kept.read_bytes() == b"".join(chunks)
    assert oct(kept.stat().st_mode & 0o777) == "0o644" and leftovers(tmp_path) == []


@pytest.mark.parametrize("how", ["not kept", "an error"])
def test_an_upload_not_kept_leaves_nothing_behind(tmp_path: Path, how: str) -> None:
    store = UploadStore(tmp_path)
    with pytest.raises(RuntimeError) if how == "an error" else nullcontext():
        with store.incoming(RELATIVE) as incoming:
            incoming.write(b"half of it")
            if how == "an error":
                raise RuntimeError("the connection broke")
    assert not (tmp_path / RELATIVE).exists() and leftovers(tmp_path) == []


def test_a_second_upload_of_the_same_content_keeps_the_first_file_and_renews_it(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)
    with store.incoming(RELATIVE) as first:
        first.write(b"content")
        path = first.keep()
    os.utime(path, (1_000_000, 1_000_000))
    inode = path.stat().st_ino
    with store.incoming(RELATIVE) as again:
        again.write(b"content")
        assert again.keep() == path
    assert path.stat().st_ino == inode and path.stat().st_mtime > time.time() - 3600
    assert leftovers(tmp_path) == []


def test_the_purge_removes_only_what_was_last_stored_before_the_cutoff(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)
    for name, age_days in (("old.md", 40), ("new.md", 1)):
        with store.incoming(PurePosixPath(name[:2]) / name) as incoming:
            incoming.write(name.encode())
            path = incoming.keep()
        then = time.time() - age_days * 86_400
        os.utime(path, (then, then))
    assert store.purge(30 * 86_400) == 1
    assert not (tmp_path / "ol").exists()  # its folder, left empty, went too
    assert (tmp_path / "ne" / "new.md").exists()
