"""Logging, configured in one place (called by the composition root, never at import)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import unquote

MASK = "**********"

# scheme://user:password@host — the userinfo runs to the last "@" before the path, so a
# password pasted with a raw "@" or ":" in it is still caught whole.
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):(?P<password>[^/?#\s]*)@")


def mask_credentials(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` with the password masked.

    The one masking function for URLs: settings display and reprs, log lines and error
    messages all go through it, so a database password never reaches a terminal or a log.
    """
    return _URL_CREDENTIALS.sub(lambda m: f"{m['head']}:{MASK}@" if m["password"] else m[0], text)


def url_passwords(text: str) -> list[str]:
    """The passwords of the URLs in ``text`` (raw and percent-decoded), for RedactSecrets."""
    found = [m["password"] for m in _URL_CREDENTIALS.finditer(text) if m["password"]]
    return found + [unquote(p) for p in found if unquote(p) != p]


class RedactSecrets(logging.Filter):
    """Replace every known secret value in a record's final message by a mask.

    Secrets are SecretStr in settings, but a library may still echo one (python-telegram-bot
    puts the token in request URLs): this filter is the last line of defence.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return mask_credentials(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class DropOverlappingRuns(logging.Filter):
    """Hide APScheduler's "skipped: maximum number of running instances reached".

    A sweep that works through a backlog outlasts its interval on purpose (max_instances=1
    keeps the next run from stacking on it); the skipped runs are expected, not a problem,
    and one warning per second would drown the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO; for Telegram that URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, DropOverlappingRuns) for f in scheduler_log.filters):
        scheduler_log.addFilter(DropOverlappingRuns())
    logging.getLogger("alembic").setLevel(logging.WARNING)


def secrets_of(settings: object) -> list[str]:
    """Every SecretStr value and URL password reachable from a settings object."""
    from pydantic import BaseModel, SecretStr

    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, str):
            found.extend(url_passwords(value))  # database_url's password
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(settings)
    return found
