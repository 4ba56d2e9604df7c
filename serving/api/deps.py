"""What routes take from the app: settings, the served model, metrics, the feedback store.

All of them live on `app.state`, set by the factory and the lifespan; a route
names what it needs in its signature and FastAPI hands it over. API keys are
not checked here but in auth.KeyCheck, before the body is read: a dependency
runs only after FastAPI has read and parsed the body.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Annotated

from fastapi import Depends, Request

from ..feedback import FeedbackStore
from ..settings import Settings
from .batcher import Scored
from .observability import ApiMetrics
from .reloading import ServedModel

__all__ = ["FeedbackDep", "LoggerDep", "Predict", "PredictDep", "ServedDep", "SettingsDep"]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _served(request: Request) -> ServedModel:
    served: ServedModel = request.app.state.served
    return served


def _feedback(request: Request) -> FeedbackStore:
    store: FeedbackStore = request.app.state.feedback
    return store


def _logger(request: Request) -> logging.Logger:
    logger: logging.Logger = request.app.state.logger
    return logger


class Predict:
    """Score texts on the served model and count the labels given."""

    def __init__(self, served: ServedModel, metrics: ApiMetrics) -> None:
        self.served = served
        self.metrics = metrics

    async def __call__(self, texts: list[str]) -> Scored:
        scored = await self.served.batcher.predict(texts)
        for label, n in Counter(p.label.value for p in scored.predictions).items():
            self.metrics.predictions.labels(label=label).inc(n)
        return scored


def _predict(request: Request) -> Predict:
    return Predict(request.app.state.served, request.app.state.metrics)


SettingsDep = Annotated[Settings, Depends(_settings)]
ServedDep = Annotated[ServedModel, Depends(_served)]
FeedbackDep = Annotated[FeedbackStore, Depends(_feedback)]
LoggerDep = Annotated[logging.Logger, Depends(_logger)]
PredictDep = Annotated[Predict, Depends(_predict)]
