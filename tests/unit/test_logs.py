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
