"""Load-test `claimtype serve` against a PyTorch-pipeline FastAPI baseline, same machine, same run.

Both servers run as separate processes on loopback; a threaded keep-alive client
sends single-sentence POST /v1/classify requests. Reports p50/p95/p99 latency at
concurrency 1, requests/s and sentences/s at concurrency 32, errors, and the
servers' resident memory. Run: python benchmarks/bench_serve.py [--model DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("server did not start")


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def load(port: int, sentences: list[str], concurrency: int, requests: int) -> dict:
    """Send `requests` single-sentence requests from `concurrency` keep-alive clients."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad = [], 0
        for i in counter:
            body = json.dumps({"texts": [sentences[i % len(sentences)]]})
            start = time.perf_counter()
            try:
                conn.request("POST", "/v1/classify", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - start)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(pct(0.50), 2),
        "p95_ms": round(pct(0.95), 2),
        "p99_ms": round(pct(0.99), 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
    }


def run_server(cmd: list[str], port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_ready(port, proc)
    return proc


def measure(name: str, cmd: list[str], port: int, sentences: list[str], args, env) -> dict:  # type: ignore[no-untyped-def]
    proc = run_server(cmd, port, env)
    try:
        load(port, sentences, 4, 200)  # warm-up
        single = load(port, sentences, 1, args.single)
        many = load(
            port, sentences, 32, args.requests if name == "claimtype" else args.baseline_requests
        )
        current, peak = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result = {
        "server": name,
        "c1": single,
        "c32": many,
        "rss_mb": round(current, 1),
        "peak_rss_mb": round(peak, 1),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "claimtype-minilm"))
    parser.add_argument(
        "--weights",
        help="fine-tuned run's model/ dir for the baseline (default: random init, same shape)",
    )
    parser.add_argument("--data", default=str(ROOT / "data" / "dev.jsonl"))
    parser.add_argument("--single", type=int, default=2000, help="requests at concurrency 1")
    parser.add_argument(
        "--requests", type=int, default=20000, help="claimtype requests at concurrency 32"
    )
    parser.add_argument("--baseline-requests", type=int, default=1500)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    sentences = [
        json.loads(line)["text"]
        for line in Path(args.data).read_text().splitlines()
        if line.strip()
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CLAIMTYPE_LOG_JSON": "true"}
    port = free_port()
    ours = measure(
        "claimtype",
        [sys.executable, "-m", "claimtype.cli", "serve", "--model", args.model,
         "--port", str(port)],
        port, sentences, args, env,
    )  # fmt: skip
    c1 = ours["c1"]
    print(f"claimtype c=1: p50 {c1['p50_ms']} ms  p95 {c1['p95_ms']} ms  p99 {c1['p99_ms']} ms")
    print(
        f"claimtype c=32: {ours['c32']['requests_per_s']} req/s = sentences/s, "
        f"{ours['c32']['errors'] + c1['errors']} errors in "
        f"{ours['c32']['requests'] + c1['requests']} requests, "
        f"peak RSS {ours['peak_rss_mb']} MB"
    )
    if args.skip_baseline:
        return
    port = free_port()
    cmd = [sys.executable, str(ROOT / "benchmarks" / "torch_server.py"), "--port", str(port)]
    if args.weights:
        cmd += ["--weights", args.weights]
    base = measure("torch-pipeline", cmd, port, sentences, args, env)
    if base["c32"]["errors"] or base["c1"]["errors"]:
        raise SystemExit("the baseline server answered with errors: its figures do not count")
    ratio = ours["c32"]["requests_per_s"] / base["c32"]["requests_per_s"]
    print(f"torch pipeline c=1: p50 {base['c1']['p50_ms']} ms  p99 {base['c1']['p99_ms']} ms")
    print(
        f"torch pipeline c=32: {base['c32']['requests_per_s']} sentences/s, "
        f"peak RSS {base['peak_rss_mb']} MB"
    )
    print(f"ratio claimtype / torch at c=32: {ratio:.2f}x sentences/s")


if __name__ == "__main__":
    main()
