"""The `relais` command line. Each command is a few lines over a service.

Command modules are imported only when their command runs (or its own ``--help`` is asked
for): `relais --help` must not pay for SQLAlchemy's models, Alembic, Mastodon.py or
markdownify (issue 11 item 16, issue 12 item 7). :data:`COMMANDS` lists them; adding a
command or a group is one line there.
"""

from __future__ import annotations

import enum
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from typer import _click as click
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from bot import __version__
from bot.errors import RelaisError


@dataclass(frozen=True)
class Lazy:
    """A command living in ``module``: ``attribute`` is a typer.Typer (a group) or a command function.

    ``summary`` is the line shown by `relais --help`, so listing the commands imports nothing;
    tests/integration/test_cli_lazy.py checks it matches the command's own help.
    """

    module: str
    attribute: str
    summary: str
    help_attribute: str | None = None  # a module constant holding the full help, when not the docstring


COMMANDS: dict[str, Lazy] = {
    "db": Lazy("bot.cli.db", "app", "Database schema: create or upgrade the tables."),
    "config": Lazy("bot.cli.config", "app", "Configuration: check it and show what is in effect."),
    "post": Lazy("bot.cli.post", "app", "Posts in the content store: add, edit, list, show, delete."),
    "authors": Lazy("bot.cli.authors", "app", "Authors and admins: grant, revoke, list."),
    "import": Lazy("bot.cli.ingest", "import_", "Import articles from RSS/Atom/WordPress feeds or WordPress WXR export files."),
    "queue": Lazy("bot.cli.queue", "show_queue", "List what is queued, per channel, with its slot time (local and UTC)."),
    "publish": Lazy("bot.cli.queue", "publish",
                    "Queue a post on every matching channel (default: the next free slot after the queue)."),
    "unschedule": Lazy("bot.cli.queue", "unschedule",
                       "Take a post off every queue; what already went out stays. `relais publish` queues it again."),
    "retry": Lazy("bot.cli.retry", "retry", "Send again the publications that went dead (never one whose message went out)."),
    "history": Lazy("bot.cli.history", "history", "What was sent where and when, newest first, with a link to each message."),
    "feeds": Lazy("bot.cli.feeds", "feeds", "Each feed's last fetch, last error, failures in a row and next attempt."),
    "stats": Lazy("bot.cli.stats", "stats",
                  "Posts published, queue length, readers, follows per tag, deliveries, over the last 7 and 30 days."),
    "channel": Lazy("bot.cli.queue", "channel_app", "Publishing channels: list, pause, resume."),
    "render": Lazy("bot.cli.render", "render",
                   "Show what each channel would publish: text, measured length and limit. Sends nothing."),
    "run": Lazy("bot.cli.run", "run", "Run Relais: receive Telegram updates, wake the scheduler, publish due posts."),
    "demo": Lazy("bot.cli.demo", "demo", "Show Relais working end to end, on this machine only, with no account anywhere.",
                 help_attribute="HELP"),
}


HELP_OPTION_NAMES = ["-h", "--help"]


def load_command(name: str, spec: Lazy) -> click.Command:
    """Import the command's module and build its click command (typer's own conversion)."""
    module = importlib.import_module(spec.module)
    target = getattr(module, spec.attribute)
    if isinstance(target, typer.Typer):
        command: click.Command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name, help=getattr(module, spec.help_attribute) if spec.help_attribute else None)(target)
        command = typer.main.get_command(single)
    command.name = name
    tidy_help(command)
    return command


def tidy_help(command: click.Command) -> None:
    """Tidy the help of a command and its subcommands, -h/--help included (see tidy_params).

    Help is click's plain text, as for the root: typer's rich panels import rich.markdown and
    markdown-it (≈ 0.1 s of CPU, most of `relais --help`), and they fold long option names.
    """
    setattr(command, "rich_markup_mode", None)  # noqa: B010 (TyperCommand and TyperGroup both read it)
    help_option = command.get_help_option(click.Context(command, help_option_names=HELP_OPTION_NAMES))
    tidy_params([*command.params, *([help_option] if help_option else [])])
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            tidy_help(sub)


def tidy_params(params: list[click.Parameter]) -> None:
    """Drop typer's type labels that say nothing: ``<bool>`` after a flag, ``<list[str]>``, ``X……``."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
        elif isinstance(param, TyperOption) and param.multiple and param.metavar is None:
            param.metavar = param.display_type(click.Context(TyperCommand(None))).replace("<list[", "<").replace("]>", ">")
        elif isinstance(param, TyperArgument) and param.nargs != 1:
            param.metavar = (param.metavar or param.name or "").upper().rstrip("…")  # typer adds "..."
            setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010 (the name column says it all)


class LazyGroup(TyperGroup):
    """A typer group whose subcommands are imported on first use (click's documented LazyGroup pattern).

    Listing them (``--help``) shows :attr:`Lazy.summary` from stand-ins; resolving one to run it,
    or to show its own help or completions, imports its module.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loaded: dict[str, click.Command] = {}
        for name, spec in COMMANDS.items():
            self.commands.setdefault(name, TyperCommand(name, short_help=spec.summary, help=spec.summary))

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        tidy_params(params)
        return params

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in COMMANDS:
            if name not in self.loaded:
                self.loaded[name] = load_command(name, COMMANDS[name])
            command = self.loaded[name]
        return name, command, rest


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
    cls=LazyGroup,
    rich_markup_mode=None,  # plain help: see tidy_help
    help="Relais publishes a blog's articles to Telegram channels and Mastodon accounts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTION_NAMES},
)


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
    from bot.cli.common import GlobalOptions

    ctx.obj = GlobalOptions(
        config_path, database, log_format.value if log_format else None, log_level.value if log_level else None
    )


def _error(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    from bot.logs import mask_credentials

    Console(stderr=True).print(f"[red]error:[/red] {escape(mask_credentials(message))}", highlight=False, soft_wrap=True)


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
        _error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
