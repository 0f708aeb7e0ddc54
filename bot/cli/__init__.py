"""The `relais` command line. Each command is a few lines over a service."""

from __future__ import annotations

import enum
import sys
from pathlib import Path

import typer
from rich.markup import escape

from bot import __version__
from bot.cli import authors, config, db, demo, ingest, post, queue, render, run, search
from bot.cli.common import GlobalOptions, err_console
from bot.errors import RelaisError


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"

app = typer.Typer(
    name="relais",
    help="Relais publishes a blog's articles to Telegram channels and Mastodon accounts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(config.app, name="config")
app.add_typer(post.app, name="post")
app.add_typer(authors.app, name="authors")
app.command("import")(ingest.import_)
app.command("queue")(queue.show_queue)
app.command("publish")(queue.publish)
app.add_typer(queue.channel_app, name="channel")
app.command("render")(render.render)
app.command("search")(search.search)
app.command("run")(run.run)
app.command("demo", help=demo.HELP)(demo.demo)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"relais {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config_path: Path | None = typer.Option(
        None, "--config", "-c", help="Configuration file (TOML). Default: $RELAIS_CONFIG, else none.",
        dir_okay=False,
    ),
    database: str | None = typer.Option(
        None, "--database", help="Database URL; overrides the file and $RELAIS_DATABASE_URL.",
    ),
    log_format: LogFormat | None = typer.Option(None, "--log-format", help="Log lines as text (default) or json."),
    log_level: LogLevel | None = typer.Option(None, "--log-level", case_sensitive=False, help="Log level."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    ctx.obj = GlobalOptions(
        config_path, database, log_format.value if log_format else None, log_level.value if log_level else None
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turn RelaisError into one line and its exit code.

    Usage errors are typer's own (usage text, exit 2); anything unexpected keeps its
    traceback, because that is a bug to report.
    """
    try:
        app(args=argv, prog_name="relais")
    except SystemExit as exc:  # typer's standalone mode always exits
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except RelaisError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
