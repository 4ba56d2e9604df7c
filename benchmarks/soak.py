"""Soak `claimtype serve` on loopback the way months of use would, for a bounded time.

Starts the server as operators run it (API and admin keys, JSON logs), then for
--duration seconds: --concurrency keep-alive clients send a mix of sentence,
article and invalid requests; an admin reload every --reload-every seconds
alternates between the model directory and a copy of it, and a SIGHUP every
--sighup-every seconds reloads whatever is served; every few seconds a batch of
idle connections is opened, half closed by the client and half left for the
server's idle timeout. The server's RSS is sampled every 5 seconds under load ("end" is the last of
those samples), and once more when the load has stopped.

Then the idle check: --idle-check connections are opened and left idle, one
normal request is timed while they are open, and the script waits for the
server to close them all. Last, SIGTERM, and the exit status and log are checked.

Prints status counts by kind, connection errors, latency percentiles of valid
requests, RSS at start, one minute, middle and end, and the idle-check figures.
Run: python benchmarks/soak.py --duration 600 --concurrency 32 --reload-every 20
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_serve import free_port, rss_mb, wait_ready  # noqa: E402

API_KEY = "soak-key"
ADMIN_KEY = "soak-admin"
JSON = {"Content-Type": "application/json"}


@dataclass
class Tally:
    """What one client saw; merged at the end."""

    statuses: Counter = field(default_factory=Counter)  # (kind, status) -> n
    errors: Counter = field(default_factory=Counter)  # kind -> connection errors
    latencies: list[float] = field(default_factory=list)  # valid requests, seconds

    def merge(self, other: Tally) -> None:
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        self.latencies.extend(other.latencies)


def load_sentences() -> list[str]:
    dev = ROOT / "data" / "dev.jsonl"
    lines = dev.read_text().splitlines() if dev.is_file() else []
    sentences = [json.loads(line)["text"] for line in lines if line.strip()]
    return sentences or ["The ministry denied the report.", "The union offered to end the strike."]


def load_articles() -> list[str]:
    return [p.read_text() for p in sorted((ROOT / "examples" / "articles").glob("*.txt"))]


def requests_mix(rng: random.Random, sentences: list[str], articles: list[str]):  # type: ignore[no-untyped-def]
    """(kind, method, path, body bytes, headers): 70% sentences, 15% articles, 15% invalid."""
    key = {"X-API-Key": API_KEY, **JSON}
    roll = rng.random()
    if roll < 0.70:
        texts = rng.sample(sentences, rng.randint(1, 8))
        return "sentences", "POST", "/v1/classify", json.dumps({"texts": texts}).encode(), key
    if roll < 0.85:
        body = json.dumps({"text": rng.choice(articles)}).encode()
        return "article", "POST", "/v1/classify/article", body, key
    invalid = [
        (b'{"texts": [', key),  # malformed JSON: 422
        (b'{"texts": []}', key),  # empty: 422
        (json.dumps({"texts": ["x"] * 300}).encode(), key),  # over max_texts: 413
        (b'{"texts": ["\xff\xfe"]}', key),  # not UTF-8: 4xx
        (b'{"texts": ["a"]}', JSON),  # no key: 401
        (b'{"texts": ["a"]}', {"Authorization": f"Bearer  {API_KEY}", **JSON}),  # near miss: 401
    ]
    body, headers = rng.choice(invalid)
    return "invalid", "POST", "/v1/classify", body, headers


def client(port: int, end: float, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)
    sentences, articles = load_sentences(), load_articles()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < end:
        kind, method, path, body, headers = requests_mix(rng, sentences, articles)
        start = time.perf_counter()
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            tally.errors[kind] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        tally.statuses[(kind, response.status)] += 1
        if kind != "invalid":
            tally.latencies.append(time.perf_counter() - start)


def reloader(port: int, pid: int, dirs: list[Path], args, end: float, log: list) -> None:  # type: ignore[no-untyped-def]
    """Admin reloads alternating between `dirs`, and SIGHUPs, until `end`."""
    start = time.monotonic()
    next_reload, next_hup, n = start + args.reload_every, start + args.sighup_every, 0
    while time.monotonic() < end:
        time.sleep(0.2)
        now = time.monotonic()
        if now >= next_hup:
            os.kill(pid, signal.SIGHUP)
            log.append(("sighup", round(now - start, 1), None))
            next_hup += args.sighup_every
        if now >= next_reload:
            n += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            body = json.dumps({"model": str(dirs[n % 2])})
            try:
                conn.request(
                    "POST",
                    "/v1/admin/reload",
                    body,
                    {"Authorization": f"Bearer {ADMIN_KEY}", **JSON},
                )
                status = conn.getresponse().status
            except (OSError, http.client.HTTPException) as exc:
                status = f"error {exc}"
            conn.close()
            log.append(("reload", round(now - start, 1), status))
            next_reload += args.reload_every


def wait_closed(socks: list[socket.socket], timeout: float) -> list[float]:
    """Seconds until the server closed each socket (EOF), for those it closed within `timeout`."""
    opened = time.monotonic()
    closed: list[float] = []
    with selectors.DefaultSelector() as sel:
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        pending = len(socks)
        while pending and time.monotonic() - opened < timeout:
            for key, _ in sel.select(timeout=0.5):
                try:
                    data = key.fileobj.recv(1)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                if not data:
                    closed.append(time.monotonic() - opened)
                    sel.unregister(key.fileobj)
                    pending -= 1
    for s in socks:
        s.close()
    return closed


def idle_churn(port: int, end: float, every: float, batch: int, idle: float, out: Counter) -> None:
    """Open `batch` idle connections every `every` s; close half, leave half to the server."""
    while time.monotonic() < end:
        socks = []
        for _ in range(batch):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            except OSError:
                out["open errors"] += 1
        out["opened"] += len(socks)
        time.sleep(random.uniform(0.2, 1.0))
        mine, theirs = socks[: len(socks) // 2], socks[len(socks) // 2 :]
        for s in mine:
            s.close()
        out["closed by client"] += len(mine)
        closed = wait_closed(theirs, idle + 5)
        out["closed by server"] += len(closed)
        out["left open past idle timeout + 5 s"] += len(theirs) - len(closed)
        time.sleep(max(0.0, every - idle))


def timed_request(port: int) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"texts": ["The council said the bridge would reopen in May."]})
    start = time.perf_counter()
    conn.request("POST", "/v1/classify", body, {"X-API-Key": API_KEY, **JSON})
    status = conn.getresponse().status
    conn.close()
    return status, time.perf_counter() - start


def idle_check(port: int, n: int, idle: float) -> dict:
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
    served = [timed_request(port) for _ in range(5)]  # while all n are open and idle
    closed = wait_closed(socks, idle + 30)
    return {
        "idle_connections": n,
        "closed_by_server": len(closed),
        "slowest_close_s": round(max(closed), 2) if closed else None,
        "idle_timeout_s": idle,
        "requests_meanwhile": [s for s, _ in served],
        "request_s_max": round(max(t for _, t in served), 3),
        "request_s_median": round(statistics.median(t for _, t in served), 3),
    }


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 1) if values else 0.0


def rss_at(samples: list[tuple[float, float]], t: float) -> float:
    """RSS (MB) of the sample closest to `t` seconds."""
    return min(samples, key=lambda s: abs(s[0] - t))[1]


def check_log(path: Path) -> dict:
    lines = path.read_text().splitlines()
    parsed, not_json = [], 0
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            not_json += 1
    return {
        "lines": len(lines),
        "not_json": not_json,
        "request_lines": sum("status" in x for x in parsed),
        "reloads_logged": sum(x.get("event") == "reload" for x in parsed),
        "reloads_refused": sum(x.get("event") == "reload_refused" for x in parsed),
        "errors": sum(x.get("level") == "error" for x in parsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "claimtype-minilm")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--reload-every", type=float, default=20)
    parser.add_argument("--sighup-every", type=float, default=45)
    parser.add_argument("--idle-timeout", type=float, default=5, help="the server's")
    parser.add_argument(
        "--churn-every", type=float, default=10, help="seconds between idle batches"
    )
    parser.add_argument("--churn", type=int, default=40, help="idle connections a batch")
    parser.add_argument("--idle-check", type=int, default=500, help="idle connections at the end")
    parser.add_argument("--log", type=Path, help="keep the server's log here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="claimtype-soak-"))
    copy = work / "model-copy"
    shutil.copytree(args.model, copy)
    log_path = args.log or work / "server.log"
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "CLAIMTYPE_API_KEYS": API_KEY,
        "CLAIMTYPE_ADMIN_KEYS": ADMIN_KEY,
        "CLAIMTYPE_FEEDBACK_DB": str(work / "feedback.sqlite3"),
    }
    cmd = [sys.executable, "-m", "claimtype.cli", "serve", "--model", str(args.model),
           "--port", str(port), "--idle-timeout", str(args.idle_timeout)]  # fmt: skip
    with log_path.open("w") as log, (work / "stdout").open("w") as stdout:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=stdout, stderr=log)
    wait_ready(port, proc)
    started = time.monotonic()
    rss: list[tuple[float, float]] = [(0.0, round(rss_mb(proc.pid)[0], 1))]
    end = started + args.duration

    tallies = [Tally() for _ in range(args.concurrency)]
    reloads: list = []
    churn: Counter = Counter()
    threads = [
        threading.Thread(target=client, args=(port, end, i, t)) for i, t in enumerate(tallies)
    ]
    dirs = [args.model, copy]
    churn_args = (port, end, args.churn_every, args.churn, args.idle_timeout, churn)
    threads += [
        threading.Thread(target=reloader, args=(port, proc.pid, dirs, args, end, reloads)),
        threading.Thread(target=idle_churn, args=churn_args),
    ]
    for t in threads:
        t.start()
    while time.monotonic() < end:
        time.sleep(5)
        rss.append((time.monotonic() - started, round(rss_mb(proc.pid)[0], 1)))
        if len(rss) % 12 == 1:
            print(f"  t={rss[-1][0]:5.0f} s  RSS {rss[-1][1]:6.1f} MB", flush=True)
    for t in threads:
        t.join()
    after_load = round(rss_mb(proc.pid)[0], 1)
    idle = idle_check(port, args.idle_check, args.idle_timeout)
    proc.send_signal(signal.SIGTERM)
    status = proc.wait(timeout=60)

    total = Tally()
    for t in tallies:
        total.merge(t)
    by_kind: dict[str, dict] = {}
    for (kind, code), n in sorted(total.statuses.items()):
        by_kind.setdefault(kind, {})[code] = n
    five_xx = sum(n for (_, code), n in total.statuses.items() if code >= 500)
    minute = rss_at(rss, 60)
    report = {
        "command": " ".join(sys.argv),
        "requests": sum(total.statuses.values()),
        "requests_per_s": round(sum(total.statuses.values()) / args.duration, 1),
        "statuses": by_kind,
        "5xx": five_xx,
        "connection_errors": dict(total.errors),
        "latency_valid_ms": {"p50": pct(total.latencies, 0.5), "p99": pct(total.latencies, 0.99)},
        "admin_reloads": Counter(str(s) for kind, _, s in reloads if kind == "reload"),
        "sighups": sum(kind == "sighup" for kind, _, _ in reloads),
        "rss_mb": {
            "start": rss[0][1],
            "1 min": minute,
            "middle": rss_at(rss, args.duration / 2),
            "end": rss[-1][1],
            "max": max(r for _, r in rss),
            "after the load": after_load,
        },
        "rss_end_vs_1_min": f"{(rss[-1][1] / minute - 1) * 100:+.1f}%",
        "idle_churn": dict(churn),
        "idle_check": idle,
        "exit_status": status,
        "server_log": check_log(log_path),
        "stdout_bytes": (work / "stdout").stat().st_size,
    }
    print(json.dumps(report, indent=2, default=str))
    if not args.log:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
