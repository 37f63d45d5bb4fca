"""Structured log lines for the server terminal: readable text by default, JSON on request.

Code logs an event name and fields: ``log_event(log, "request", method="GET", status=200)``.
The text format writes ``2025-01-01T12:00:00.000Z INFO  request method=GET status=200``; the
JSON format one object per line with ``time``, ``level``, ``logger``, ``event`` and the fields,
for a log shipper. Fields never carry secrets: callers pass what is safe to show.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]

FIELDS = "chargeline_fields"
EVENT = "chargeline_event"


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with ``fields`` as one structured line."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={EVENT: event, FIELDS: fields})


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text_value(value: Any) -> str:
    text = str(value)
    if text == "" or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text)
    return text


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, FIELDS, {})
        event = getattr(record, EVENT, None) or record.getMessage()
        parts = [_timestamp(record), f"{record.levelname:<5}", event]
        parts += [f"{key}={_text_value(value)}" for key, value in fields.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, FIELDS, {})
        body: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, EVENT, None) or record.getMessage(),
            **fields,
        }
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(fmt: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Send INFO and above of the platform's loggers to ``stream`` (stderr) in ``fmt``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # libraries: warnings and errors only
    for name in ("app", "ocpp_edge", "charging", "enrollment", "firmware", "pki"):
        logging.getLogger(name).setLevel(logging.INFO)
