"""Baseline for bench_serve: the same /v1/classify contract on the transformers PyTorch pipeline.

Started as its own process by bench_serve.py. With a run directory it loads the
fine-tuned weights; without, a randomly initialised BERT of MiniLM-L6-H384's
shape (same compute: speed does not depend on the weights).
"""

import argparse
import os

from pydantic import BaseModel

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class Body(BaseModel):
    texts: list[str]


def build_pipeline(weights: str | None):  # type: ignore[no-untyped-def]
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
        pipeline,
    )

    from claimtype.training.config import base_model_dir

    torch.set_num_threads(os.cpu_count() or 1)
    base = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base)
    if weights:
        model = AutoModelForSequenceClassification.from_pretrained(weights)
    else:
        config = BertConfig.from_pretrained(base, num_labels=4)
        model = BertForSequenceClassification(config)
    return pipeline("text-classification", model=model.eval(), tokenizer=tokenizer, top_k=None)


def main() -> None:
    import uvicorn
    from fastapi import FastAPI

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--weights")
    args = parser.parse_args()
    classifier = build_pipeline(args.weights)
    app = FastAPI()

    @app.post("/v1/classify")
    def classify(body: Body) -> dict:
        out = classifier(body.texts, batch_size=32, truncation=True, max_length=128)
        results = [
            {
                "label": max(r, key=lambda x: x["score"])["label"],
                "scores": {x["label"]: x["score"] for x in r},
            }
            for r in out
        ]
        return {"model": "torch-pipeline", "results": results}

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
