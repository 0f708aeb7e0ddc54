"""Every exception Relais raises on purpose derives from :class:`RelaisError`.

The tree::

    RelaisError                      exit code 1 unless stated
    ├── ConfigError                  exit 2: bad file, key, value or missing secret
    ├── UsageError                   exit 2: a command was called wrongly
    ├── Forbidden                    this user may not do that (bot.services.access)
    ├── StoreError                   the database failed or refused
    │   ├── DatabaseUnavailable      cannot connect, or locked
    │   ├── SchemaBehind             the database is behind the migrations' head
    │   └── NotFound                 a row named by the user does not exist
    ├── IngestError                  a source could not be fetched or parsed
    │   ├── FetchError               network, HTTP status, size cap
    │   └── ParseError               nothing usable in the bytes
    ├── FormatError                  a post cannot be rendered for a profile
    └── PublishError                 a platform call failed (classified in ``bot.publish``)
        ├── RetryableError           429, timeouts, network, 5xx: try again later
        └── PermanentError           400, 401/403, 404, 422: never resent unchanged

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error, 3 partial failure
(``PARTIAL_FAILURE``: a batch command, such as ``relais import a b``, where some items failed
and others went through; ``--json`` says which).

Messages are meant for the person at the terminal: one line, what is wrong and, when
there is one, the command that fixes it. They never contain a secret: tokens are never
quoted, and every ``scheme://user:password@`` goes through ``bot.logs.mask_credentials``
(also applied by ``bot.cli.main`` to whatever it prints, and by the log filter).
"""

from __future__ import annotations

PARTIAL_FAILURE = 3


class RelaisError(Exception):
    """Root of every error Relais raises on purpose."""

    exit_code = 1


class ConfigError(RelaisError):
    exit_code = 2


class UsageError(RelaisError):
    exit_code = 2


class Forbidden(RelaisError):
    pass


class StoreError(RelaisError):
    pass


class DatabaseUnavailable(StoreError):
    pass


class SchemaBehind(StoreError):
    pass


class NotFound(StoreError):
    pass


class IngestError(RelaisError):
    pass


class FetchError(IngestError):
    pass


class ParseError(IngestError):
    pass


class FormatError(RelaisError):
    pass


class PublishError(RelaisError):
    status: int | None = None  # the platform's answer code (403, 429, …) when one answered and it is known


class RetryableError(PublishError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(PublishError):
    pass
