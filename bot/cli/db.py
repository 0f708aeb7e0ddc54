"""`relais db …`: schema migrations."""

from __future__ import annotations

import typer

from bot.cli.common import console, run, settings
from bot.store import db

app = typer.Typer(help="Database schema: create or upgrade the tables.", no_args_is_help=True)


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
    console.print(f"Database {db.safe_url(loaded.database_url)} is at the latest schema ({db.head_revision()}).")
