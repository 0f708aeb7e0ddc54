"""`relais db backup`: a consistent copy of the database while Relais keeps running.

SQLite: the online backup API (``sqlite3.Connection.backup``), in one step. It reads the
database through a connection, so what is still in the write-ahead log is copied too, and in
WAL mode one step holds a read snapshot that writers do not block: the copy is the database
as of one instant, and workers carry on meanwhile. The copy is written next to its final
name and renamed only once complete and checked (``PRAGMA quick_check``).

PostgreSQL: the right tool is ``pg_dump`` (a consistent snapshot of a live database too). It
is not ours to run — it needs the server's client version, and where the dump goes is the
operator's call — so the service returns the exact command for the configured URL, the
password masked.
"""

from __future__ import annotations

import shlex
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.errors import StoreError, UsageError


@dataclass(frozen=True)
class BackupResult:
    written: Path | None = None  # SQLite: the copy
    size: int = 0  # bytes
    command: str | None = None  # PostgreSQL: the pg_dump to run


def backup_database(database_url: str, destination: Path) -> BackupResult:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return BackupResult(command=pg_dump_command(database_url, destination))
    if url.get_backend_name() != "sqlite":
        raise UsageError(f"db backup: no backup method for {url.get_backend_name()} databases")
    if not url.database or url.database == ":memory:":
        raise UsageError("db backup: the database is in memory; there is no file to back up")
    return _sqlite_backup(Path(url.database), destination)


def pg_dump_command(database_url: str, destination: Path) -> str:
    """``pg_dump`` in custom format (restorable with pg_restore) for this URL, the password shown as ***."""
    url = make_url(database_url).set(drivername="postgresql")  # libpq's URL, not SQLAlchemy's driver spelling
    target = url.render_as_string(hide_password=True)
    return f"pg_dump --format=custom --file={shlex.quote(str(destination))} --dbname={shlex.quote(target)}"


def _sqlite_backup(source: Path, destination: Path) -> BackupResult:
    if not source.is_file():
        raise UsageError(f"db backup: no database file at {source}")
    if destination.exists():
        raise UsageError(f"db backup: {destination} already exists; name a new file (nothing is overwritten)")
    if not destination.parent.is_dir():
        raise UsageError(f"db backup: folder {destination.parent} does not exist")
    partial = destination.with_name(destination.name + ".partial")
    try:
        with closing(sqlite3.connect(source, timeout=30)) as live, closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)  # pages=-1: one step, one snapshot
            verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise StoreError(f"db backup: the copy failed its check ({verdict}); {source} is untouched")
        partial.replace(destination)
    except sqlite3.Error as exc:
        raise StoreError(f"db backup: could not copy {source}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(written=destination, size=destination.stat().st_size)
