"""Batch scoring of article archives: `claimtype score` and what it is made of.

readers (files -> articles, bad lines reported), shards (resumable units of
work), scoring (one shard -> rows), engines (inline, threads, processes), ray
(the same on Ray Data), writers (JSONL, CSV, Parquet), job (the whole run).
"""

from .job import ScoreOptions, ScoreReport, score

__all__ = ["ScoreOptions", "ScoreReport", "score"]
