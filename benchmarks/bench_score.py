"""Benchmark `claimtype score` against what a user would run instead, in one run.

A synthetic archive (news-style articles recombined from templates, so nothing
is downloaded) is scored by `claimtype.batch.score` - reading, splitting, scoring
and writing included - and the same sentences, already split, go through the
`transformers` text-classification pipeline at batch size 32 twice: over
optimum's `ORTModelForSequenceClassification` on the same int8 ONNX file (the
nearest alternative to claimtype: `pip install 'claimtype[bench]'`), and over
the PyTorch fp32 model. All get the same cores. The script also prints the
effective GFLOP/s of the model part (BERT forward FLOPs for the actual token
counts) beside this machine's fp32 numpy matrix-multiply rate. Figures are
medians of a few repeats; ratios are taken within this run only.

With `--label-only DIR` (a model directory without the evidence head, e.g. the
previous release), `claimtype score` runs with it and with --model in turns,
same archive and engine, and the script prints what evidence costs: the
evidence model's sentences/s as a share of the label-only one's.

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

from claimtype.cpus import cores

OPTIMUM = "optimum ORT pipeline (int8, batch 32)"
TORCH = "transformers pipeline (PyTorch fp32, batch 32)"
#: claimtype's throughput over each baseline's, at least (issue 13)
TARGETS = {OPTIMUM: 2.0, TORCH: 8.0}
#: sentences/s with evidence over the label-only graph's, at least (issue 12)
EVIDENCE_TARGET = 0.9

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
    from claimtype.sentences import split_sentences

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


def torch_pipeline(run: Path | None, tokenizer_file: Path, threads: int):  # type: ignore[no-untyped-def]
    """The baseline: transformers' text-classification pipeline, fp32, batch 32, on CPU."""
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
        run = run / "model" if (run / "model").is_dir() else run  # a run directory or its model/
        model = BertForSequenceClassification.from_pretrained(str(run))
        tokenizer = AutoTokenizer.from_pretrained(str(run))
        source = f"trained weights from the run directory {run}"
    else:
        torch.manual_seed(0)
        model = BertForSequenceClassification(BertConfig(**MINILM, num_labels=4))
        tokenizer = PreTrainedTokenizerFast(
            tokenizer_file=str(tokenizer_file),
            **{f"{t}_token": f"[{t.upper()}]" for t in ("pad", "cls", "sep", "unk", "mask")},
        )
        source = "random weights, MiniLM-L6-H384 config (speed does not depend on weights)"
    classify = pipeline("text-classification", model=model.eval(), tokenizer=tokenizer, device=-1)
    return lambda texts: classify(texts, batch_size=32, truncation=True, max_length=128), source


def optimum_pipeline(model_dir: Path, threads: int):  # type: ignore[no-untyped-def]
    """The path a user would pick instead of claimtype, or None without optimum installed.

    optimum's ORT model on the same int8 file, with the directory's config and
    tokenizer, in transformers' text-classification pipeline at batch size 32;
    its session gets as many intra-op threads as claimtype's runs have cores.
    """
    try:
        import onnxruntime as ort
        from optimum.onnxruntime import ORTModelForSequenceClassification
    except ImportError:
        return None
    from transformers import AutoTokenizer, pipeline
    from transformers.utils import logging

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    model = ORTModelForSequenceClassification.from_pretrained(
        str(model_dir),
        file_name="model_quantized.onnx",
        session_options=options,
        provider="CPUExecutionProvider",
    )
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    logging.set_verbosity_error()  # it warns that optimum's class is not a transformers one
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1)
    return lambda texts: classify(texts, batch_size=32, truncation=True, max_length=128)


def model_part(model_dir: Path, sentences: Sequence[str], workers: int) -> tuple[float, list[int]]:
    """Seconds of ONNX Runtime work alone, and the token lengths.

    Tokenised, sorted and padded beforehand; run as the engine runs it: one
    one-thread session that `workers` threads call at once, batch after batch.
    """
    from concurrent.futures import ThreadPoolExecutor

    from claimtype.artefact import load_model_dir
    from claimtype.predictor import OnnxPredictor

    predictor = OnnxPredictor(load_model_dir(model_dir), threads=1)
    rows = sorted(predictor.encoder.tokenize(sentences), key=len)
    size, collate = predictor.batch_size, predictor.encoder.collate
    batches = [collate(rows[i : i + size]).arrays for i in range(0, len(rows), size)]
    feeds = [{name: b[name] for name in predictor.inputs} for b in batches]

    def run(feed: dict) -> None:
        predictor.session.run([predictor.manifest.output], feed)

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, feeds))
    return time.perf_counter() - start, [len(r) for r in rows]


def score_archive(model_dir: Path, archive: Path, workers: int, parallel: str) -> int:
    """One `claimtype score` run, as the CLI does it: read, split, score, write JSONL."""
    from claimtype.batch import ScoreOptions, score
    from claimtype.batch.engines import InlineEngine, PoolEngine, PredictorSpec

    out = archive.with_name(f"scores-{parallel}.jsonl")
    if workers == 1:
        engine = InlineEngine(PredictorSpec(model_dir, threads=cores())())
    else:
        engine = PoolEngine(PredictorSpec(model_dir, threads=1), workers, parallel)  # type: ignore[arg-type]
    report = score([archive], out, engine, ScoreOptions())
    out.unlink()
    return report.rows


def time_claimtype(args: argparse.Namespace, archive: Path, n: int) -> dict[str, float]:
    """Sentences/s of `claimtype score` in each parallel mode this many workers allow."""
    modes = ["processes", "threads"] if args.workers > 1 else ["inline"]
    return {
        f"claimtype score ({mode})": n
        / median_time(
            lambda m=mode: score_archive(args.model, archive, args.workers, m), args.repeats
        )
        for mode in modes
    }


def time_pipeline(
    classify: Callable[[list[str]], object], sentences: list[str], repeats: int
) -> float:
    """Sentences/s of a pipeline over the split sentences, after a warm-up batch."""
    classify(sentences[:64])
    return len(sentences) / median_time(lambda: classify(sentences), repeats)


def time_baselines(
    args: argparse.Namespace, sentences: list[str]
) -> tuple[dict[str, float | None], str]:
    """Sentences/s of the optimum (None when not installed) and PyTorch pipelines."""
    rates: dict[str, float | None] = {OPTIMUM: None}
    optimum = optimum_pipeline(args.model, cores())
    if optimum is not None:
        rates[OPTIMUM] = time_pipeline(optimum, sentences, args.repeats)
    classify, source = torch_pipeline(args.run, args.model / "tokenizer.json", cores())
    rates[TORCH] = time_pipeline(classify, sentences, args.repeats)
    return rates, source


def print_comparison(
    results: dict[str, float], best: str, baselines: dict[str, float | None]
) -> None:
    """One table of claimtype's best mode and the baselines, then each ratio against its target."""
    from claimtype.extras import install_hint

    others = ", ".join(f"{name}: {rate:.1f}" for name, rate in results.items() if name != best)
    if others:
        print(f"other mode: {others} sentences/s")
    print(f"{'':<52}{'sentences/s':>12}{'claimtype is':>14}")
    print(f"{best:<52}{results[best]:>12.1f}")
    missing = f"optimum.onnxruntime does not import: {install_hint('bench')}"
    for name, rate in baselines.items():
        cell = missing if rate is None else f"{rate:>12.1f}{results[best] / rate:>13.2f}x"
        print(f"{name:<52}{cell}")
    for name, target in TARGETS.items():
        rate = baselines[name]
        if rate is None:
            print(f"claimtype / {name}: not measured (target >= {target:g}x)")
            continue
        ratio = results[best] / rate
        verdict = "met" if ratio >= target else "NOT met"
        print(f"claimtype / {name}: {ratio:.2f}x (target >= {target:g}x): {verdict}")


def time_evidence_cost(args: argparse.Namespace, archive: Path, n: int) -> None:
    """Sentences/s with and without evidence, runs alternated so drift hits both alike."""
    with_evidence, label_only = [], []
    for _ in range(args.repeats):
        for model, times in ((args.model, with_evidence), (args.label_only, label_only)):
            start = time.perf_counter()
            score_archive(model, archive, args.workers, "threads")
            times.append(n / (time.perf_counter() - start))
    a, b = statistics.median(with_evidence), statistics.median(label_only)
    print(f"evidence cost (claimtype score, threads, alternating runs, medians of {args.repeats}):")
    print(f"  label-only graph {args.label_only}: {b:.1f} sentences/s")
    print(f"  with evidence    {args.model}: {a:.1f} sentences/s")
    verdict = "met" if a / b >= EVIDENCE_TARGET else "NOT met"
    print(f"  with evidence / label-only: {a / b:.3f} (target >= {EVIDENCE_TARGET}): {verdict}")


def print_flops(
    n: int, best: tuple[str, float], onnx: tuple[float, list[int]], workers: int
) -> None:
    """Effective GFLOP/s of the model part alone and end to end, beside numpy's matmul rate."""
    (name, rate), (onnx_seconds, lengths) = best, onnx
    flops = bert_flops(lengths, MINILM)
    matmul = matmul_gflops()
    ort_gflops = flops / onnx_seconds / 1e9
    print(
        f"tokens: {sum(lengths)} ({sum(lengths) / n:.1f} a sentence); "
        f"BERT forward: {flops / 1e9:.1f} GFLOP"
    )
    print(
        f"model part (ONNX Runtime int8, {workers} runs at once): {ort_gflops:.1f} GFLOP/s; "
        f"end to end ({name}): {flops / (n / rate) / 1e9:.1f} GFLOP/s"
    )
    print(
        f"numpy fp32 matmul on this machine: {matmul:.1f} GFLOP/s "
        f"(model part at {ort_gflops / matmul:.2f}x of it)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    from claimtype.sentences import split_sentences
    from claimtype.settings import default_model_dir

    parser = argparse.ArgumentParser(
        prog="claimtype bench score", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--model", type=Path, default=default_model_dir(), help="model directory")
    parser.add_argument("--run", type=Path, help="training run for the baseline (else random)")
    parser.add_argument("--sentences", type=int, default=20_000, help="archive size (>= 20000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=cores(), help="default: all cores")
    parser.add_argument(
        "--label-only", type=Path, help="a model directory without evidence: time what it costs"
    )
    parser.add_argument(
        "--evidence-only", action="store_true", help="with --label-only: skip the other figures"
    )
    args = parser.parse_args(argv)
    if not (args.model / "manifest.json").is_file():
        raise SystemExit(f"no model directory at {args.model}: pass --model")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    with tempfile.TemporaryDirectory() as tmp:
        archive = write_archive(Path(tmp), args.sentences)
        articles = [json.loads(line)["text"] for line in archive.open()]
        sentences = [s.text for a in articles for s in split_sentences(a)]
        n = len(sentences)
        print(
            f"archive: {len(articles)} articles, {n} sentences; {args.workers} workers, "
            f"{cores()} cores; {args.repeats} repeats, medians"
        )
        if args.label_only:
            time_evidence_cost(args, archive, n)
            if args.evidence_only:
                return 0
        results = time_claimtype(args, archive, n)
        best = max(results, key=results.__getitem__)
        baselines, source = time_baselines(args, sentences)
        timings = [model_part(args.model, sentences, args.workers) for _ in range(args.repeats)]

    print(f"PyTorch baseline model: {source}")
    print_comparison(results, best, baselines)
    onnx = (statistics.median(t for t, _ in timings), timings[0][1])
    print_flops(n, (best, results[best]), onnx, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
