"""Time a full retraining cycle against its 20-minute budget on this machine.

The cycle is what a user runs after adding data: `data add` (validation and
near-duplicate checks against the corpus), `train` (MiniLM fine-tuning, default
TrainConfig), `export` (ONNX fp32 + int8 with the parity gate) and `compare`
(both models evaluated through OnnxPredictor on dev, dev_wire and challenge). The
budget covers train + export; every stage's wall time is printed, with the
ratio to the budget.

Default: the full corpus and the full recipe. For a quick check that the
script works, shrink it: --limit 200 --max-steps 5.
Run: python benchmarks/bench_retrain.py [--against models/claimtype-minilm]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_SECONDS = 20 * 60


def timed(fn, repeat: int = 1):  # type: ignore[no-untyped-def]
    """(result of the last call, median wall seconds)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-file", default="data/train.jsonl")
    parser.add_argument("--against", help="model to compare with (default: the current model)")
    parser.add_argument("--limit", type=int, help="use only the first N training sentences")
    parser.add_argument("--max-steps", type=int, default=-1, help="stop training after N steps")
    parser.add_argument("--epochs", type=float, help="override TrainConfig.epochs")
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    parser.add_argument("--out", help="keep the run and model here (default: a temp directory)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from claimtype.settings import Settings
    from claimtype.training.add_data import add_data
    from claimtype.training.config import TrainConfig
    from claimtype.training.data import EVAL_SETS, read_jsonl, write_jsonl
    from claimtype.training.export import ExportConfig, export
    from claimtype.training.promote import compare, format_comparison, load_sets
    from claimtype.training.train import train

    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = read_jsonl(Path(args.train_file))[: args.limit]
    train_file = work / "train.jsonl"
    eval_files = {name: path for name, path in EVAL_SETS.items() if path.is_file()}
    held_out = list(eval_files.values())

    # data add: the last tenth of train added to the rest (dry run), median of 3
    cut = len(rows) - max(1, len(rows) // 10)
    write_jsonl(train_file, rows[:cut])
    write_jsonl(work / "new.jsonl", rows[cut:])
    report, add_s = timed(
        lambda: add_data(work / "new.jsonl", train_file, held_out, dry_run=True), repeat=3
    )
    write_jsonl(train_file, rows)

    config = TrainConfig(
        train_file=train_file,
        out=work / "run",
        max_steps=args.max_steps,
        threads=args.threads,
    )
    if args.epochs is not None:
        config = dataclasses.replace(config, epochs=args.epochs)
    run, train_s = timed(lambda: train(config))
    info = json.loads((run / "metrics.json").read_text())
    cfg = ExportConfig(
        run=run,
        out=work / "model",
        version="bench",
        eval_files=eval_files,
        # a shortened run is barely trained: its near-tied logits may flip under int8
        **({} if args.max_steps < 0 else {"min_agreement": 0.0, "min_class_agreement": 0.0}),
    )
    model, export_s = timed(lambda: export(cfg))
    against = Path(args.against) if args.against else Settings().model_path()
    if not (against / "manifest.json").is_file():
        against = model
    sets = load_sets(eval_files)
    comparison, compare_s = timed(lambda: compare(model, against, sets))

    cycle = train_s + export_s
    print(format_comparison(comparison))
    print()
    print(f"work directory: {work}")
    print(f"train sentences {len(rows)}, dev {info['dev_sentences']}, max_steps {args.max_steps}")
    print(f"{'stage':<34}{'seconds':>9}")
    print(f"{'data add (dry run, median of 3)':<34}{add_s:>9.2f}   {len(report.accepted)} accepted")
    print(f"{'train':<34}{train_s:>9.1f}   run reports {info['wall_seconds']} s")
    print(f"{'export (fp32, int8, parity gate)':<34}{export_s:>9.1f}")
    print(f"{'compare (2 models, ' + '+'.join(eval_files) + ')':<34}{compare_s:>9.1f}")
    print(
        f"train + export {cycle:.1f} s = {cycle / BUDGET_SECONDS:.2f} x the "
        f"{BUDGET_SECONDS // 60}-minute budget: {'within' if cycle <= BUDGET_SECONDS else 'OVER'}"
    )
    return 0 if cycle <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
