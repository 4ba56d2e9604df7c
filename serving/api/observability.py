"""Prometheus metrics and JSON logs for the API.

Each app gets its own registry, so several apps (tests, reloads) never clash
over global collectors. In JSON mode every line the server writes is one JSON
object: claimtype's own lines, uvicorn's (through `server_log_config`) and
Python warnings alike, so a log shipper never meets a line it cannot parse.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ApiMetrics", "JsonFormatter", "configure_logging", "server_log_config"]

LOGGER = "claimtype"

#: attributes every LogRecord has (anything else on a record came from `extra=`), and
#: uvicorn's coloured copy of its message, which is for terminals
_NOT_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "claimtype_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "claimtype_request_seconds",
            "request latency",
            ["route"],
            buckets=(0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "claimtype_batch_size",
            "texts per model call",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )
        self.predictions = Counter(
            "claimtype_predictions", "predictions by label", ["label"], registry=self.registry
        )
        self.model = Gauge(
            "claimtype_model_info", "the model being served", ["model"], registry=self.registry
        )

    def set_model(self, name: str) -> None:
        self.model.clear()
        self.model.labels(model=name).set(1)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with whatever `extra` fields the call passed."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update((k, v) for k, v in record.__dict__.items() if k not in _NOT_FIELDS)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(json_lines: bool) -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(message)s")
        )
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def server_log_config(json_lines: bool) -> dict[str, Any]:
    """logging.config for uvicorn: its lines in the same format as ours, no access log.

    The access log is Observe's request line (serving/middleware.py); uvicorn's own
    would log every request a second time, as plain text. The root logger gets the
    same handler, for Python warnings and any library that logs.
    """
    formatter = {"()": JsonFormatter} if json_lines else {"format": "%(levelname)s %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
