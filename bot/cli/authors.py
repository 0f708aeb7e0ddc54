"""`relais authors …`: who may write and publish, over bot.services.access.

The person at the terminal acts as the operator: the configuration's admins cannot be
revoked here (edit `[access]` in the file), everything granted here lives in the database.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from bot.cli.common import console, with_app
from bot.services import access
from bot.services.access import Access
from bot.store.models import AuthorRole

app = typer.Typer(help="Authors and admins: grant, revoke, list.", no_args_is_help=True)


def _describe(entry: Access) -> str:
    role = entry.role.value if entry.role else "reader"
    return f"{role} (configuration)" if entry.from_config and entry.from_config == entry.role else role


def _as_json(entry: Access) -> dict[str, object]:
    return {"user_id": entry.user_id, "role": entry.role.value if entry.role else None, "name": entry.name,
            "from_config": entry.from_config.value if entry.from_config else None}


@app.command("grant")
def grant(
    ctx: typer.Context,
    user_id: int = typer.Argument(..., help="The Telegram user id."),
    role: AuthorRole = typer.Option(AuthorRole.AUTHOR, "--role", help="author: write and publish; admin: also grant."),
    name: str | None = typer.Option(None, "--name", help="A name to recognise them by."),
) -> None:
    """Let a Telegram user write and publish (or administer, with --role admin)."""
    change = with_app(ctx, lambda relais: access.grant(relais, user_id, role, by=access.OPERATOR, name=name))
    verb = "is now" if change.changed else "already is"
    console.print(f"User {user_id} {verb} {_describe(change.access)}.")


@app.command("revoke")
def revoke(ctx: typer.Context, user_id: int = typer.Argument(..., help="The Telegram user id.")) -> None:
    """Take back the rights granted in the database (the configuration's stay)."""
    change = with_app(ctx, lambda relais: access.revoke(relais, user_id, by=access.OPERATOR))
    console.print(f"User {user_id} is now {_describe(change.access)}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List authors and admins, from the configuration and the database."""
    entries = with_app(ctx, access.list_authors)
    if as_json:
        typer.echo(json.dumps([_as_json(e) for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        console.print("No authors yet: add admins to [access] in the configuration, or `relais authors grant USER_ID`.")
        return
    table = Table("user id", "role", "name", "from", title="Authors")
    for e in entries:
        source = "configuration" if e.from_config == e.role else "database"
        table.add_row(str(e.user_id), e.role.value if e.role else "", e.name or "", source)
    console.print(table)
