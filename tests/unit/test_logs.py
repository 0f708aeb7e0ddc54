import io
import json
import logging

from bot.logs import JsonFormatter, RedactSecrets


def _logger(stream: io.StringIO, formatter: logging.Formatter, secrets: list[str]) -> logging.Logger:
    logger = logging.getLogger(f"test-redact-{id(stream)}")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RedactSecrets(secrets))
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def test_secret_is_masked_in_messages_args_and_tracebacks() -> None:
    stream = io.StringIO()
    logger = _logger(stream, logging.Formatter("%(message)s"), ["123:SECRET"])
    logger.warning("calling https://api.telegram.org/bot%s/getMe", "123:SECRET")
    try:
        raise RuntimeError("bad token 123:SECRET")
    except RuntimeError:
        logger.exception("failed")
    text = stream.getvalue()
    assert "123:SECRET" not in text
    assert "bot**********/getMe" in text and "RuntimeError: bad token **********" in text


def test_json_lines() -> None:
    stream = io.StringIO()
    logger = _logger(stream, JsonFormatter(), [])
    logger.warning("publié « %s »", "Santé")
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "publié « Santé »" and entry["level"] == "WARNING"


def test_overlapping_scheduler_runs_are_not_logged_but_other_warnings_are() -> None:
    from bot.logs import configure_logging

    configure_logging("INFO", "text", [])
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    scheduler_log.addHandler(handler)
    try:
        scheduler_log.warning('Execution of job "outbox sweep" skipped: maximum number of running instances reached (1)')
        scheduler_log.warning('Run time of job "outbox sweep" was missed by 0:00:05')
    finally:
        scheduler_log.removeHandler(handler)
    assert stream.getvalue().splitlines() == ['Run time of job "outbox sweep" was missed by 0:00:05']
