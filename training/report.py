"""report.md of a run directory: what was trained on what, how it did, with the PNGs.

Written from the run's own files (train_config.json, metrics.json) so a report
can always be regenerated and never says anything the run did not record.
Export adds the figures of the served (int8 ONNX) model when it has them.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..labels import LABELS

__all__ = ["write_run_report"]


def _scores(m: dict) -> list[str]:
    lines = [
        f"{m['n']} sentences: accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f}",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for k in LABELS:
        r = m["per_label"][k]
        lines.append(
            f"| {k} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
        )
    lines += ["", "Confusion (rows gold, columns predicted):", ""]
    lines.append("| gold \\ predicted | " + " | ".join(LABELS) + " |")
    lines.append("|---" * (len(LABELS) + 1) + "|")
    for k, row in zip(LABELS, m["confusion"], strict=True):
        lines.append(f"| {k} | " + " | ".join(str(v) for v in row) + " |")
    return lines


def write_run_report(
    run: Path, exported: dict | None = None, model_dir: Path | None = None
) -> Path:
    """Write run/report.md; `exported` is the model directory's metrics.json, if exported."""
    config = json.loads((run / "train_config.json").read_text())
    info = json.loads((run / "metrics.json").read_text())
    files = "<br>".join(f"`{p}` {sha}" for p, sha in info.get("data_files", {}).items())
    lines = [
        f"# Training run `{run.name}`",
        "",
        "| | |",
        "|---|---|",
        f"| started | {info.get('started', '?')} |",
        f"| wall time | {info['wall_seconds']:.1f} s on {info.get('threads', '?')} threads |",
        f"| code version | `{info.get('code_version', '?')}` |",
        f"| data sha256 (train + dev) | `{info['data_sha256']}` |",
        f"| data files | {files or '?'} |",
        f"| sentences | train {info['train_sentences']}, dev {info['dev_sentences']} |",
        f"| base weights | `{info['base_model']}` sha256 `{info['base_sha256']}`"
        f"{' (pinned)' if info.get('base_sha256_is_pinned') else ' (NOT the pinned weights)'} |",
        f"| seed | {config['seed']} |",
        f"| versions | python {info.get('python')}, torch {info.get('torch')}, "
        f"transformers {info.get('transformers', '?')} |",
        "",
    ]
    if "soup_of" in info:  # averaged, not trained: its ingredients have the curves
        lines += ["## A soup of", "", *(f"- `{run}`" for run in info["soup_of"]), ""]
    else:
        lines += [
            "## Dev, PyTorch, best checkpoint",
            "",
            *_scores(info["dev_torch"]),
            "",
            "![confusion matrix, dev](confusion_dev.png)",
            "",
            "## Training curves",
            "",
            "![training loss and dev macro-F1](curves.png)",
            "",
        ]
    if exported is not None:
        where = f" (`{model_dir}`)" if model_dir else ""
        lines += [f"## Exported model {exported['model']}{where}, int8 ONNX", ""]
        for name in exported["sets"]:
            lines += [f"### {name}", "", *_scores(exported[name]), ""]
        lines += ["![confusion, int8](confusion_dev_int8.png)", ""]
    lines += ["## Config", "", "```json", json.dumps(config, indent=2), "```", ""]
    path = run / "report.md"
    path.write_text("\n".join(lines))
    return path
