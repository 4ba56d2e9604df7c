"""`claimtype serve` as a process: connection limits, keys on the wire, signals, exit status, logs.

Each test talks to a real server over loopback sockets. Deadlines here are generous
bounds on whether something happens at all, not speed targets.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tiny import set_version, versioned_copy

ROOT = Path(__file__).resolve().parents[2]
WAIT = 15.0  # seconds: far above every limit the servers below are given
LIMITS = ["--idle-timeout", "0.5", "--request-timeout", "1", "--max-connections", "8"]


class Running:
    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc = proc
        self.port = port

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
        return sock

    def request(
        self, method: str, path: str, body: object = None, headers: dict | None = None
    ) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        data = json.dumps(body) if body is not None else None
        conn.request(method, path, data, {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response.status, json.loads(payload) if payload else {}

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then the exit status, standard output and standard error."""
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=WAIT)
        return self.proc.returncode, out, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(model: Path, *flags: str, **env: str) -> Running:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "claimtype.cli",
        "serve",
        "--model",
        str(model),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        [*cmd, *flags],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Running(proc, port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            if server.request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise TimeoutError("the server did not start")


def closed_by_server(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (raises if it never does)."""
    sock.settimeout(WAIT)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path) -> Iterator[Running]:
    running = start(tiny_model_dir, *LIMITS, CLAIMTYPE_API_KEYS="k1")
    yield running
    running.stop()


def test_an_idle_connection_is_closed(server: Running) -> None:
    with server.connect() as sock:
        assert closed_by_server(sock) == b""


def test_a_connection_that_goes_quiet_after_a_request_is_closed(server: Running) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert closed_by_server(sock).startswith(b"HTTP/1.1 200")


def test_headers_sent_too_slowly_get_408(server: Running) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for _ in range(3):  # a byte now and then: each resets an idle timer, not the deadline
            time.sleep(0.3)
            sock.sendall(b"X")
        assert closed_by_server(sock).startswith(b"HTTP/1.1 408")


def test_a_body_sent_too_slowly_gets_408(server: Running) -> None:
    head = b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\nContent-Length: 40\r\n\r\n"
    with server.connect() as sock:
        sock.sendall(head + b'{"texts": ')
        answer = closed_by_server(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"request_timeout" in answer


def test_a_body_trickling_after_an_early_answer_is_cut_off(server: Running) -> None:
    head = b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    with server.connect() as sock:
        sock.sendall(head + b"{")
        assert sock.recv(4096).startswith(b"HTTP/1.1 401")  # no key: answered at once
        deadline = time.monotonic() + WAIT
        with pytest.raises(OSError):  # the server hangs up on the rest of the body
            while time.monotonic() < deadline:
                time.sleep(0.2)
                sock.sendall(b" ")
                if sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b"":
                    raise ConnectionResetError("closed by the server")


def test_connections_over_the_cap_get_503_and_the_others_carry_on(server: Running) -> None:
    socks = [server.connect() for _ in range(8)]
    try:
        extra = server.connect()
        answer = closed_by_server(extra)
        assert answer.startswith(b"HTTP/1.1 503")
        assert b"retry-after: 1" in answer and b"max_connections=8" in answer
        socks[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert socks[0].recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        for sock in socks:
            sock.close()


def test_a_request_is_served_while_idle_connections_are_open(server: Running) -> None:
    socks = [server.connect() for _ in range(6)]
    try:
        status, body = server.request(
            "POST", "/v1/classify", {"texts": ["the union said"]}, {"X-API-Key": "k1"}
        )
        assert status == 200 and body["results"][0]["label"]
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (b"Bearer k1", 200),
        (b"Bearer k1 ", 200),  # a trailing space is HTTP whitespace: the parser drops it
        (b"Bearer  k1", 401),
        (b"Bearer k1\xa0", 401),
        (b"Bearer \xa0k1", 401),
    ],
)
def test_keys_on_the_wire(server: Running, value: bytes, status: int) -> None:
    body = b'{"texts": ["the union said"]}'
    head = (
        b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\nAuthorization: %s\r\n\r\n"
        % (len(body), value)
    )
    with server.connect() as sock:
        sock.sendall(head + body)
        assert closed_by_server(sock).startswith(b"HTTP/1.1 %d" % status)


def test_sighup_reloads_the_directory_being_served(tiny_model_dir: Path, tmp_path: Path) -> None:
    other = versioned_copy(tiny_model_dir, tmp_path / "other", "9.9.9")
    running = start(tiny_model_dir, *LIMITS, CLAIMTYPE_ADMIN_KEYS="root")
    try:
        admin = {"Authorization": "Bearer root"}
        assert running.request("POST", "/v1/admin/reload", {"model": str(other)}, admin)[0] == 200
        set_version(other, "9.9.10")  # tells a reload of `other` from one of --model's
        running.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + WAIT
        while (version := running.request("GET", "/v1/model")[1]["version"]) == "9.9.9":
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            time.sleep(0.1)
        assert version == "9.9.10"  # not --model's 0.0.1
    finally:
        running.stop()


def test_sigterm_exits_0_with_one_json_line_per_request(tiny_model_dir: Path) -> None:
    running = start(tiny_model_dir, *LIMITS, CLAIMTYPE_API_KEYS="k1")
    requests = [
        ("POST", "/v1/classify", {"texts": ["the union said"]}, {"X-API-Key": "k1"}, 200),
        ("POST", "/v1/classify", {"texts": []}, {"X-API-Key": "k1"}, 422),
        ("POST", "/v1/classify", {"texts": ["x"]}, {}, 401),
        ("GET", "/nowhere", None, {"X-API-Key": "k1"}, 404),
        ("GET", "/healthz", None, {}, 200),
    ]
    try:
        for i, (method, path, body, headers, _) in enumerate(requests):
            running.request(method, path, body, {**headers, "X-Request-ID": f"req-{i}"})
    finally:
        status, out, err = running.stop()
    assert status == 0
    assert out == ""
    lines = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    for i, (method, path, *_, expected) in enumerate(requests):
        (line,) = [x for x in lines if x.get("request_id") == f"req-{i}"]
        assert (line["method"], line["path"], line["status"]) == (method, path, expected)
        assert {"client", "http_version", "bytes", "ms", "user_agent"} <= line.keys()
    assert not [x for x in lines if x["logger"] == "uvicorn.access"]
    assert len([x for x in lines if "status" in x]) == len(requests) + 1  # + start's /healthz


@pytest.mark.parametrize(
    ("soft", "hard", "raised_to", "warns"),
    [(1024, 4096, 1064, False), (1024, 1024, 1024, True), (65536, 65536, None, False)],
)
def test_the_open_files_limit_is_raised_to_fit_the_cap(
    monkeypatch: pytest.MonkeyPatch, soft: int, hard: int, raised_to: int | None, warns: bool
) -> None:
    import resource
    from unittest import mock

    from claimtype.api import server

    calls = []
    monkeypatch.setattr(resource, "getrlimit", lambda _: (soft, hard))
    monkeypatch.setattr(resource, "setrlimit", lambda _, limits: calls.append(limits))
    monkeypatch.setattr(server, "logger", mock.Mock())
    server._room_for_connections(1000)
    assert calls == ([] if raised_to is None else [(raised_to, hard)])
    assert server.logger.warning.called == warns


@pytest.mark.parametrize("chunked", [False, True])
def test_a_client_that_writes_the_whole_body_first_reads_the_413(
    server: Running, chunked: bool
) -> None:
    """Python's urllib sends all 2 MB before it reads: the answer must still reach it."""
    import urllib.error
    import urllib.request

    body = b"x" * (2 * 1024 * 1024)
    data = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    headers = {"Content-Type": "text/plain", "X-API-Key": "k1"}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    for _ in range(10):  # a reset came now and then, not every time
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/v1/classify", data=data, headers=headers
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=WAIT)
        assert refused.value.code == 413
        assert b"max_body_bytes" in refused.value.read()
        if chunked:
            data = iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
