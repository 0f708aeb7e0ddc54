"""`relais db backup`: a SQLite copy identical to the database, taken while a writer works;
for PostgreSQL, the pg_dump command with the password masked (nothing run)."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import UsageError
from bot.services.backup import backup_database, pg_dump_command
from bot.store import db
from tests.integration.test_migrations import insert_rows, revisions_in_order


def sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[1])


def every_table(path: Path) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(path)) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: _rows(conn, table) for table in tables}


def _rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:  # FTS5 shadow tables are WITHOUT ROWID
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


@pytest.fixture
async def populated(tmp_path: Path) -> Path:
    """A SQLite database at head with rows in every table (the migration test's data set)."""
    path = tmp_path / "relais.db"
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await db.upgrade(engine, revisions_in_order()[0])
        await insert_rows(engine)
        await db.upgrade(engine)
    finally:
        await engine.dispose()
    return path


def test_backup_copies_what_is_still_in_the_write_ahead_log(populated: Path, tmp_path: Path) -> None:
    with closing(sqlite3.connect(populated)) as writer:  # kept open: its WAL is not checkpointed on close
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("INSERT INTO tags (key, display, created_at) VALUES ('dépression', 'Dépression', '2026-11-30 00:00:00')")
        writer.commit()
        wal = populated.with_name(populated.name + "-wal")
        assert wal.stat().st_size > 0
        result = backup_database(f"sqlite+aiosqlite:///{populated}", tmp_path / "copy.db")
        assert result.written == tmp_path / "copy.db" and result.size > 0
        source = every_table(populated)
    copy = every_table(tmp_path / "copy.db")
    assert copy == source
    assert ("dépression",) in {row[1:2] for row in copy["tags"]}
    assert all(copy[table] for table in ("posts", "publications", "deliveries", "feed_sources", "follows"))


def test_backup_while_a_writer_inserts_is_one_consistent_instant(populated: Path, tmp_path: Path) -> None:
    started, stop = threading.Event(), threading.Event()
    written: list[int] = []

    def write() -> None:
        with closing(sqlite3.connect(populated, timeout=30)) as conn:
            number = 0
            while not stop.is_set():
                number += 1
                conn.execute("INSERT INTO tags (key, display, created_at) VALUES (?, ?, '2026-11-30 00:00:00')",
                             (f"tag{number:05d}", f"Tag{number}"))
                conn.commit()
                written.append(number)
                if number == 20:
                    started.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert started.wait(30)
        backup_database(f"sqlite:///{populated}", tmp_path / "copy.db")
    finally:
        stop.set()
        writer.join(30)
    copy, source = every_table(tmp_path / "copy.db"), every_table(populated)
    copied = [row for row in copy["tags"] if row[1].startswith("tag")]
    # a prefix of what the writer committed: no torn transaction, nothing from after the instant
    assert len(copied) >= 20
    assert copied == [row for row in source["tags"] if row[1].startswith("tag")][: len(copied)]
    assert {t: rows for t, rows in copy.items() if t != "tags"} == {t: rows for t, rows in source.items() if t != "tags"}


def test_backup_refuses_to_overwrite_and_to_copy_nothing(populated: Path, tmp_path: Path) -> None:
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"keep me")
    with pytest.raises(UsageError, match="already exists"):
        backup_database(f"sqlite:///{populated}", existing)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(UsageError, match="no database file"):
        backup_database(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "copy.db")
    assert not (tmp_path / "missing.db").exists()  # not created by trying
    with pytest.raises(UsageError, match="in memory"):
        backup_database("sqlite+aiosqlite:///:memory:", tmp_path / "copy.db")
    assert not list(tmp_path.glob("*.partial"))


def test_the_pg_dump_command_masks_the_password() -> None:
    command = pg_dump_command("postgresql+asyncpg://relais:s3cr%40t@db.example:5433/relais", Path("/var/backups/relais 1.dump"))
    assert command == ("pg_dump --format=custom --file='/var/backups/relais 1.dump' "
                       "--dbname='postgresql://relais:***@db.example:5433/relais'")  # quoted: * is a shell glob
    assert "s3cr" not in command


def test_cli_backup_on_sqlite_then_on_postgresql(populated: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELAIS_CONFIG", raising=False)
    monkeypatch.delenv("RELAIS_DATABASE_URL", raising=False)
    copy = tmp_path / "sauvegarde.db"
    assert main(["--database", f"sqlite:///{populated}", "db", "backup", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "copied to" in out and str(copy) in out.replace("\n", "")
    assert every_table(copy) == every_table(populated)

    assert main(["--database", f"sqlite:///{populated}", "db", "backup", str(copy)]) == 2
    assert "already exists" in capsys.readouterr().err

    code = main(["--database", "postgresql://relais:hunter22@127.0.0.1:1/relais", "db", "backup", "relais.dump"])
    out, err = capsys.readouterr()
    assert code == 0 and "hunter22" not in out + err
    assert "pg_dump --format=custom --file=relais.dump --dbname='postgresql://relais:***@127.0.0.1:1/relais'" in out
