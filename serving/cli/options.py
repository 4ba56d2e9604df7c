"""Flags that several commands share, and the settings and predictor they make."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..predictor import OnnxPredictor
    from ..settings import Settings

__all__ = ["model_flags", "predictor_from", "settings_from"]

#: `serve` flags named like their settings (--idle-timeout is CLAIMTYPE_IDLE_TIMEOUT)
SERVER_LIMITS = ("idle_timeout", "request_timeout", "max_connections", "graceful_timeout")
SETTING_FLAGS = (
    "model", "precision", "threads", "host", "port", "batch_size", "ray_temp_dir", *SERVER_LIMITS
)  # fmt: skip


def model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    p.add_argument("--precision", choices=["int8", "fp32"], help="ONNX model to run")
    p.add_argument("--threads", type=int, help="ONNX Runtime threads (default: usable cores)")
    p.add_argument("--batch-size", type=int, dest="batch_size")


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from CLAIMTYPE_* variables, overridden by the flags given."""
    from ..settings import Settings

    overrides = {k: v for k in SETTING_FLAGS if (v := getattr(args, k, None)) is not None}
    return Settings(**overrides)


def predictor_from(args: argparse.Namespace) -> OnnxPredictor:
    from ..api.reloading import load_predictor

    return load_predictor(settings_from(args))
