"""Log lines for people (text) or for log shippers (LOG_FORMAT=json: one JSON object a line), each with the id
of the request it belongs to (core/requests.py): a tap, a chat command, a webhook.

What the application logs names users and contacts by id only; tokens are SecretStr and never formatted.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from core.requests import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"


class RequestId(logging.Filter):
    """Puts the current request's id on every record (None outside any request), and " [id]" for text lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        record.request_tag = f" [{record.request_id}]" if record.request_id else ""
        return True


class JsonLines(logging.Formatter):
    """time, level, logger, message and request_id (null outside a request); exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_handler(log_format: str, stream=None) -> logging.Handler:
    """A handler writing `log_format` ("text" or "json") lines to `stream` (stderr by default)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestId())
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler
