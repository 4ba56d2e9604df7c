"""Prometheus metrics and JSON request logs for the API.

Each app gets its own registry, so several apps (tests, reloads) never clash
over global collectors.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ApiMetrics", "JsonFormatter", "configure_logging"]

LOGGER = "claimtype"


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

    FIELDS = ("request_id", "method", "path", "status", "ms", "model", "event")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


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
