"""A model soup: the weight average of finished runs that share a base model.

Fine-tuned from the same pretrained weights, runs on different data stay close
enough in weight space that their average is itself a good model (Wortsman et
al., 2022, "Model soups"), one that keeps much of what each ingredient learnt.
Corpus v4's wire copy raised the realistic dev set by four points and cost
about two on real news; averaging that run with 3.0.0's kept most of the first
and lost none of the second beyond noise (docs/retraining.md). The soup is a
run directory like any other, so `claimtype export` and `--init-from` take it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from ..artefact import sha256_file
from .train import code_version

__all__ = ["SoupError", "average_runs"]

WEIGHTS = "model.safetensors"


class SoupError(ValueError):
    """The runs cannot be averaged: another base, shape or tokenizer."""


def _same(runs: Sequence[Path], relative: str, what: str) -> None:
    first = sha256_file(runs[0] / relative)
    if any(sha256_file(run / relative) != first for run in runs[1:]):
        raise SoupError(f"the runs' {what} ({relative}) differ: only like runs average")


def average_runs(runs: Sequence[Path], out: Path) -> Path:
    """Average the runs' weights (equal shares) into a new run directory `out`."""
    from safetensors.torch import load_file, save_file

    if len(runs) < 2:
        raise SoupError("a soup needs at least two runs")
    infos = [json.loads((run / "metrics.json").read_text()) for run in runs]
    bases = {info["base_sha256"] for info in infos}
    if len(bases) != 1:
        raise SoupError(f"the runs start from different base models: {sorted(bases)}")
    _same(runs, "model/tokenizer.json", "tokenizers")
    configs = [json.loads((run / "train_config.json").read_text()) for run in runs]
    if len({c["max_length"] for c in configs}) != 1:
        raise SoupError("the runs were trained with different max_length")
    weights = [load_file(run / "model" / WEIGHTS) for run in runs]
    if any(w.keys() != weights[0].keys() for w in weights[1:]):
        raise SoupError("the runs' models have different layers (an evidence head in one?)")
    averaged = {
        name: (sum(w[name].double() for w in weights) / len(weights)).to(weights[0][name].dtype)
        for name in weights[0]
    }
    out.mkdir(parents=True, exist_ok=False)
    shutil.copytree(runs[0] / "model", out / "model")
    save_file(averaged, str(out / "model" / WEIGHTS), metadata={"format": "pt"})
    (out / "train_config.json").write_text(json.dumps(configs[-1], indent=2) + "\n")
    # the last run's record (its data, versions, base), less its dev figures, which were
    # not measured on the soup; the time is what the soup took to make, all runs together
    info = {k: v for k, v in infos[-1].items() if k not in ("dev_torch", "best_checkpoint")}
    info |= {
        "soup_of": [str(run) for run in runs],
        "soup_sha256": {str(run): sha256_file(run / "model" / WEIGHTS) for run in runs},
        "wall_seconds": round(sum(i.get("wall_seconds", 0.0) for i in infos), 1),
        "code_version": code_version(),
    }
    (out / "metrics.json").write_text(json.dumps(info, indent=2) + "\n")
    return out
