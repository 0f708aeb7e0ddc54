"""`relais db …`: schema migrations and backups."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.common import console, run, settings
from bot.store import db

app = typer.Typer(help="Database: create or upgrade the tables, back it up.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Bring the database (empty or older) to the latest schema."""
    loaded = settings(ctx)

    async def main() -> tuple[str | None, str | None]:
        engine = db.create_engine(loaded.database_url)
        try:
            return await db.upgrade(engine)
        finally:
            await engine.dispose()

    before, after = run(main())
    where = db.safe_url(loaded.database_url)
    if before == after:
        console.print(f"Database {where} is already at the latest schema ({after}).")
    else:
        console.print(f"Database {where} upgraded from {before or 'empty'} to {after}.")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Say whether the database is at the latest schema."""
    loaded = settings(ctx)

    async def main() -> None:
        engine = db.create_engine(loaded.database_url)
        try:
            await db.check_schema(engine)
        finally:
            await engine.dispose()

    run(main())
    console.print(f"Database {db.safe_url(loaded.database_url)} is at the latest schema ({db.HEAD_REVISION}).")


@app.command("backup")
def backup(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="The copy to write (SQLite), or the dump file to name (PostgreSQL).",
                                dir_okay=False),
) -> None:
    """Back up the database while Relais runs: SQLite is copied; for PostgreSQL, the pg_dump command to run."""
    from bot.services.backup import backup_database

    loaded = settings(ctx)
    result = backup_database(loaded.database_url, path)
    if result.command:
        console.print("PostgreSQL is backed up with pg_dump (nothing was run). With Relais running or not:", highlight=False)
        typer.echo(result.command)
        console.print("The password is shown as ***: pg_dump reads it from PGPASSFILE or ~/.pgpass, or asks for it. "
                      "Restore with every Relais process stopped: pg_restore --clean --if-exists --dbname=… FILE",
                      highlight=False)
        return
    console.print(f"Database {db.safe_url(loaded.database_url)} copied to {result.written} ({result.size:,} bytes).",
                  highlight=False)
