"""A throw-away PostgreSQL on a free 127.0.0.1 port, for restoring a dump to check it.

As root the server runs as ``nobody`` (PostgreSQL refuses root), in a folder under /var/tmp. It
holds a copy of the data, so it asks for a password too: a fresh one, known to this process only.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from runtime.secret_files import write_private

USER = "docling"
START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_nobody() -> dict[str, object]:
    return {"user": "nobody", "group": "nogroup", "extra_groups": []} if os.geteuid() == 0 else {}


@asynccontextmanager
async def server(bin_dir: Path) -> AsyncIterator[str]:
    """Yields the URL of database ``postgres`` on a fresh cluster; removes everything after."""
    root = Path(tempfile.mkdtemp(prefix="docling-jobs-verify-", dir="/var/tmp"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("nobody")
        os.chown(root, entry.pw_uid, entry.pw_gid)
    port, process, password = _free_port(), None, secrets.token_urlsafe(24)
    try:
        process = await asyncio.to_thread(_start, bin_dir, root, port, password)
        url = f"postgresql://{USER}:{password}@127.0.0.1:{port}/postgres"
        await _wait(url, process)
        yield url
    finally:
        if process is not None:
            await asyncio.to_thread(_stop, process)
        shutil.rmtree(root, ignore_errors=True)


def _start(bin_dir: Path, root: Path, port: int, password: str) -> subprocess.Popen[bytes]:
    data, pwfile = root / "pgdata", root / "pwfile"
    write_private(pwfile, password + "\n", "nobody" if os.geteuid() == 0 else None)
    initdb = [str(bin_dir / "initdb"), "-U", USER, "--auth=scram-sha-256", f"--pwfile={pwfile}",
              "-E", "UTF8", "--locale=C", "-D", str(data)]  # fmt: skip
    try:
        subprocess.run(initdb, check=True, capture_output=True, cwd=root, **_as_nobody())  # type: ignore[call-overload]
    finally:
        pwfile.unlink()
    server = [str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", "",
              "-c", "fsync=off"]  # fmt: skip
    with open(root / "postgres.log", "ab") as out:
        return subprocess.Popen(server, stdout=out, stderr=subprocess.STDOUT, cwd=root, **_as_nobody())  # type: ignore[call-overload]


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


async def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_S
    while True:
        try:
            conn = await asyncpg.connect(url, timeout=2)
        except (OSError, asyncpg.PostgresError):
            if process.poll() is not None or loop.time() > deadline:
                raise RuntimeError("the scratch PostgreSQL did not start") from None
            await asyncio.sleep(0.2)
            continue
        await conn.close()
        return
