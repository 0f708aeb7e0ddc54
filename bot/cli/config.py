"""`relais config …`: validate and show the effective configuration."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.syntax import Syntax

from bot.cli.common import console, err_console, settings
from bot.settings import masked_dump

app = typer.Typer(help="Configuration: check it and show what is in effect.", no_args_is_help=True)


@app.command("check")
def check(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the configuration as JSON."),
) -> None:
    """Validate the configuration and print it, secrets masked.

    Exits 2 when the configuration is invalid, or when an enabled channel has no token to publish with.
    """
    loaded = settings(ctx)
    text = json.dumps(masked_dump(loaded), indent=2, ensure_ascii=False, default=str)
    problems = loaded.missing_tokens()
    if as_json:
        typer.echo(text)
    else:
        verdict = "[red]Configuration is incomplete.[/red]" if problems else "[green]Configuration is valid.[/green]"
        console.print(f"{verdict} Effective values (secrets masked):")
        console.print(Syntax(text, "json", word_wrap=True))
    for problem in problems:
        err_console.print(f"[red]error:[/red] {escape(problem)}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(2)
