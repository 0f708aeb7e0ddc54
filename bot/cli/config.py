"""`relais config …`: validate and show the effective configuration."""

from __future__ import annotations

import json

import typer
from rich.syntax import Syntax

from bot.cli.common import console, settings
from bot.settings import masked_dump

app = typer.Typer(help="Configuration: check it and show what is in effect.", no_args_is_help=True)


@app.command("check")
def check(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the configuration as JSON."),
) -> None:
    """Validate the configuration and print it with secrets masked."""
    data = masked_dump(settings(ctx))
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if as_json:
        typer.echo(text)
    else:
        console.print("[green]Configuration is valid.[/green] Effective values (secrets masked):")
        console.print(Syntax(text, "json", word_wrap=True))
