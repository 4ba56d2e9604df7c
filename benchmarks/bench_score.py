"""Benchmark `claimtype score` against the transformers PyTorch pipeline, in one run.

A synthetic archive (news-style articles recombined from templates, so nothing
is downloaded) is scored by `serving.batch.score` - reading, splitting, scoring
and writing included - and the same sentences, already split, go through the
`transformers` text-classification pipeline at batch size 32. Both get the same
cores. The script also prints the effective GFLOP/s of the model part (BERT
forward FLOPs for the actual token counts) beside this machine's fp32 numpy
matrix-multiply rate. Figures are medians of a few repeats; ratios are taken
within this run only.

    python benchmarks/bench_score.py --model /tmp/trial/model [--sentences 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

#: MiniLM-L6-H384 (all-MiniLM-L6-v2's encoder): what the shipped model is built on
MINILM = {
    "vocab_size": 30522,
    "hidden_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 12,
    "intermediate_size": 1536,
    "max_position_embeddings": 512,
}

WHO = [
    "The ministry",
    "A spokesman for the ministry",
    "The company",
    "Officials in Kyiv",
    "The mayor of the city",
    "Two senior diplomats",
    "The European Commission",
    "Sen. Maria Lopez",
    "Dr. Amina Bello, who leads the regional health agency,",
    "The central bank",
    "Local residents",
    "The U.S. State Department",
    "Union leaders",
    "The prime minister's office",
    "Investigators",
    "The board of directors",
]
DID = [
    "opened a new factory on the outskirts of the capital",
    "met for three hours behind closed doors on Monday",
    "raised interest rates by 0.25 percentage points",
    "closed the border crossing after heavy fighting overnight",
    "signed a trade agreement worth $4.5 billion",
    "cut its forecast for economic growth this year to 1.2%",
    "evacuated more than 3,000 people from villages along the river",
    "held talks with the delegation in Geneva",
    "announced plans to hire 2,000 workers by the end of next year",
]
SAY = ["said", "told reporters", "said in a statement", "told ABC News", "wrote on social media"]
CLAIMED = [
    "the deal would be signed within weeks",
    "more than 12,000 troops are believed to be fighting in the region",
    "the plant had been operating at a loss since the pandemic",
    "prices would keep rising until the end of the year",
    "the attack was carried out by a group with links to the former government",
]
DENIED = [
    "denied reports that it had paid the ransom",
    "dismissed the allegations as baseless and politically motivated",
    "has not confirmed the deployment of troops to the border",
    "rejected the claim that the vote had been rigged",
]
OFFERED = [
    "offered to release the prisoners in exchange for a ceasefire",
    "proposed talks in Istanbul next month",
    "said it was ready to rebuild the bridge at its own cost",
    "pledged $50 million in aid to the flooded provinces",
]
BACKGROUND = [
    "The region has been contested since 2014, when fighting first broke out",
    "The bridge, built in 1962, carried about 40,000 vehicles a day",
    "Inflation reached 9.1% last summer, its highest level in four decades",
    "No one was hurt",
    "The talks are the first since the ceasefire collapsed in March",
]
TIME = ["", " on Monday", " last week", " earlier this year", " on Tuesday evening"]


def sentence(rng: random.Random) -> str:
    """One news-style sentence of one of the four kinds, 5 to 60 words long."""
    kind = rng.randrange(5)
    who = rng.choice(WHO)
    if kind == 0:
        text = f"{who} {rng.choice(DID)}{rng.choice(TIME)}"
    elif kind == 1:
        text = f"{who} {rng.choice(SAY)} that {rng.choice(CLAIMED)}"
    elif kind == 2:
        text = f"{who} {rng.choice(DENIED)}{rng.choice(TIME)}"
    elif kind == 3:
        text = f"{who} {rng.choice(OFFERED)}"
    else:
        text = rng.choice(BACKGROUND)
    if rng.random() < 0.3:  # long sentences: a second clause
        text += f", while {rng.choice(WHO)[0].lower()}{rng.choice(WHO)[1:]} {rng.choice(DID)}"
    if rng.random() < 0.15:
        text = f'"{text}," {rng.choice(WHO).lower()} {rng.choice(SAY)}'
    return text + "."


def article(rng: random.Random) -> str:
    """A headline and a few paragraphs of 2-5 sentences."""
    paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(2, 5))) for _ in range(4)]
    headline = rng.choice(DID).capitalize()
    return headline + "\n" + "\n\n".join(paragraphs)


def write_archive(directory: Path, sentences: int, seed: int = 13) -> Path:
    """A JSONL archive of generated articles holding at least `sentences` sentences."""
    from serving.sentences import split_sentences

    rng = random.Random(seed)
    path = directory / "archive.jsonl"
    total = 0
    with path.open("w", encoding="utf-8") as fh:
        n = 0
        while total < sentences:
            text = article(rng)
            total += len(split_sentences(text))
            fh.write(json.dumps({"id": f"a{n}", "text": text}) + "\n")
            n += 1
    return path


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bert_flops(lengths: Sequence[int], cfg: dict) -> float:
    """Multiply-adds x 2 of a BERT encoder forward for sequences of these token lengths.

    Per layer and token: Q, K, V and output projections (4 h^2), the feed-forward
    pair (2 h i), and per token pair the attention scores and weighted sum (2 h n).
    Embeddings, layer norms, softmax and the classifier head are left out (<1%).
    """
    h, i, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    return float(sum(2 * layers * (n * (4 * h * h + 2 * h * i) + 2 * n * n * h) for n in lengths))


def matmul_gflops(size: int = 1024, repeats: int = 5) -> float:
    """This machine's fp32 matrix-multiply rate through numpy (all cores it may use)."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b
    return 2 * size**3 / median_time(lambda: a @ b, repeats) / 1e9


def torch_pipeline(run: Path | None, threads: int):  # type: ignore[no-untyped-def]
    """The baseline: transformers' text-classification pipeline, fp32, on CPU."""
    import torch
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
        PreTrainedTokenizerFast,
        pipeline,
    )

    torch.set_num_threads(threads)
    if run is not None:
        model = BertForSequenceClassification.from_pretrained(str(run))
        tokenizer = AutoTokenizer.from_pretrained(str(run))
        source = f"trained weights from {run}"
    else:
        torch.manual_seed(0)
        model = BertForSequenceClassification(BertConfig(**MINILM, num_labels=4))
        tokenizer = None
        source = "random weights, MiniLM-L6-H384 config (speed does not depend on weights)"
    model.eval()
    return model, tokenizer, source, pipeline, PreTrainedTokenizerFast


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="claimtype model directory")
    parser.add_argument("--run", type=Path, help="training run directory for the baseline")
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args(argv)
    raise SystemExit("unfinished")


if __name__ == "__main__":
    raise SystemExit(main())
