"""`claimtype score`: score archives of articles, sentence by sentence, resumably."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .command import Command
from .options import model_flags, settings_from

if TYPE_CHECKING:
    from ..batch.engines import Engine
    from ..batch.job import ScoreOptions

__all__ = ["COMMAND"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or directories (recursive)")
    p.add_argument("--out", required=True, help="OUT.jsonl, OUT.csv or OUT.parquet")
    p.add_argument("--no-split", action="store_true", help="one output record per input record")
    p.add_argument("--text-field", default="text", help="record field holding the article")
    p.add_argument("--id-field", default="id", help="record field used as doc_id ('' for none)")
    p.add_argument("--shard-size", type=int, default=100, help="articles per shard")
    p.add_argument("--resume", action="store_true", help="finish an interrupted job")
    p.add_argument("--keep-work", action="store_true", help="keep OUT.work/ after success")
    p.add_argument("--errors", help="errors report (default OUT.errors.jsonl)")
    p.add_argument("--summary", help="per-document counts by label (.jsonl or .csv)")
    p.add_argument(
        "--sources", help="claims, denials and offers per source, with their documents (.csv)"
    )
    p.add_argument("--engine", choices=["local", "ray"], default="local")
    p.add_argument("--workers", type=int, help="workers or Ray actors (default: cores)")
    p.add_argument("--parallel", choices=["threads", "processes"], default="threads")
    p.add_argument(
        "--ray-temp-dir",
        type=Path,
        dest="ray_temp_dir",
        help="folder for the session files of a Ray started for the job (CLAIMTYPE_RAY_TEMP_DIR)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    model_flags(p)


def engine_for(args: argparse.Namespace) -> tuple[Engine, dict[str, object]]:
    """The engine and the model identity for `score`, from its flags."""
    from ..batch.engines import InlineEngine, PoolEngine, PredictorSpec
    from ..cpus import cores

    settings = settings_from(args)
    workers = args.workers or cores()
    threads = settings.threads or max(1, cores() // workers)
    spec = PredictorSpec(settings.model, settings.precision, threads, settings.batch_size)
    if args.engine == "ray":
        from ..batch.ray import RayEngine

        try:
            return RayEngine(spec, workers, temp_dir=settings.ray_temp_dir), spec.identity()
        except ImportError as exc:
            raise SystemExit(f"score: {exc}") from None
    if workers == 1:
        return InlineEngine(spec()), spec.identity()
    return PoolEngine(spec, workers, args.parallel), spec.identity()


def options_from(args: argparse.Namespace) -> ScoreOptions:
    from ..batch.job import ScoreOptions

    return ScoreOptions(
        text_field=args.text_field,
        id_field=args.id_field or None,
        split=not args.no_split,
        shard_size=args.shard_size,
        resume=args.resume,
        keep_work=args.keep_work,
        errors=Path(args.errors) if args.errors else None,
        summary=Path(args.summary) if args.summary else None,
        sources=Path(args.sources) if args.sources else None,
        progress=not args.quiet,
    )


def run(args: argparse.Namespace) -> int:
    from ..batch.job import score
    from ..batch.shards import JobMismatchError

    options = options_from(args)
    engine, identity = engine_for(args)
    try:
        report = score([Path(p) for p in args.inputs], Path(args.out), engine, options, identity)
    except (FileNotFoundError, JobMismatchError, ValueError) as exc:
        raise SystemExit(f"score: {exc}") from None
    unit = "sentences" if options.split else "records"
    print(
        f"scored {plural(report.rows, unit)} of {plural(report.articles, 'articles')} into "
        f"{report.out} ({plural(report.shards, 'shards')}, {report.resumed} resumed)",
        file=sys.stderr,
    )
    if report.partial:
        problems = plural(len(report.errors), "problems")
        print(f"partial: {problems}, see {report.errors_path}", file=sys.stderr)
    return 2 if report.partial else 0


def plural(n: int, noun: str) -> str:
    """`1 article`, `2 articles`: `noun` is given in the plural."""
    return f"{n} {noun[:-1] if n == 1 and noun.endswith('s') else noun}"


COMMAND = Command(
    "score", "score archives of articles, sentence by sentence (resumable)", add_arguments, run
)
