"""Closed-loop HTTP/1.1 load generator, run as a separate process by bench/run.py.

One asyncio event loop drives N connections over raw sockets (no HTTP library), each sending
its next request as soon as the previous answer is read. Connections are kept alive when the
server allows it; gunicorn's sync worker answers ``Connection: close``, and then the next
request opens a new connection (its connect time is part of that request's latency).

Protocol on stdin/stdout, one JSON object per line:
  in:  {"endpoint": "healthz"|"token", "seconds": 5.0, "max_requests": 100000}
  out: {"endpoint", "ok", "errors", "elapsed", "connects", "cpu", "latencies_us", "error_samples"}
An empty line or EOF ends the process. The Basic credentials come in BENCH_AUTHORIZATION.

Every response is checked: status 200, ``ok`` for /healthz, and for /auth/token a JSON body
whose ``token`` is a three-part JWT.
"""

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from urllib.parse import urlencode

REQUEST_TIMEOUT = 10.0


class BadResponse(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """``(status, body, server_closes)`` of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise BadResponse(f"bad status line {lines[0][:80]!r}")
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = await reader.read()
        return status, body, True
    closes = headers.get(b"connection", b"").lower() == b"close" or parts[0] == b"HTTP/1.0"
    return status, body, closes


def check_healthz(body: bytes) -> str | None:
    return None if body == b"ok\n" else f"unexpected body {body[:80]!r}"


def check_token(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return f"body is not JSON: {body[:80]!r}"
    token = document.get("token") if isinstance(document, dict) else None
    if not isinstance(token, str) or token.count(".") != 2:
        return f"no token in body {body[:120]!r}"
    return None


class Round:
    def __init__(self, host: str, port: int, endpoint: str, request: bytes, check) -> None:
        self.host, self.port, self.endpoint = host, port, endpoint
        self.request, self.check = request, check
        self.ok = 0
        self.errors = 0
        self.issued = 0
        self.connects = 0
        self.latencies: list[int] = []
        self.error_samples: list[str] = []

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message)

    async def connection(self, deadline: float, max_requests: int) -> None:
        reader = writer = None
        perf = time.perf_counter_ns
        try:
            while time.monotonic() < deadline and self.issued < max_requests:
                self.issued += 1
                started = perf()
                try:
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        if writer is None:
                            reader, writer = await asyncio.open_connection(self.host, self.port)
                            writer.get_extra_info("socket").setsockopt(
                                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
                            )
                            self.connects += 1
                        writer.write(self.request)
                        status, body, closes = await read_response(reader)
                    elapsed = perf() - started
                    if status != 200:
                        self.error(f"HTTP {status}: {body[:120]!r}")
                    elif (problem := self.check(body)) is not None:
                        self.error(problem)
                    else:
                        self.ok += 1
                        self.latencies.append(elapsed // 1000)
                    if closes:
                        writer.close()
                        reader = writer = None
                except (OSError, EOFError, TimeoutError, BadResponse, ValueError) as exc:
                    self.error(f"{type(exc).__name__}: {exc}"[:200])
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    await asyncio.sleep(0.01)  # do not spin on a dead server
        finally:
            if writer is not None:
                writer.close()


async def run_round(args, requests, command: dict) -> dict:
    endpoint = command["endpoint"]
    request, check = requests[endpoint]
    state = Round(args.host, args.port, endpoint, request, check)
    started = time.monotonic()
    deadline = started + float(command["seconds"])
    max_requests = int(command.get("max_requests", 1_000_000))
    await asyncio.gather(
        *(state.connection(deadline, max_requests) for _ in range(args.concurrency))
    )
    return {
        "endpoint": endpoint,
        "ok": state.ok,
        "errors": state.errors,
        "elapsed": time.monotonic() - started,
        "connects": state.connects,
        "latencies_us": state.latencies,
        "error_samples": state.error_samples,
    }


def build_requests(host: str, port: int, service: str, scope: str, authorization: str):
    def get(path: str, extra: str = "") -> bytes:
        return (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: iam-bench\r\n"
            f"Accept: */*\r\n{extra}\r\n"
        ).encode()

    query = urlencode({"service": service, "scope": scope})
    return {
        "healthz": (get("/healthz"), check_healthz),
        "token": (
            get(f"/auth/token?{query}", f"Authorization: {authorization}\r\n"),
            check_token,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--service", required=True)
    parser.add_argument("--scope", required=True)
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        sys.exit("loadgen: only 127.0.0.1 is allowed")
    authorization = os.environ.get("BENCH_AUTHORIZATION", "")
    requests = build_requests(args.host, args.port, args.service, args.scope, authorization)
    for line in sys.stdin:
        if not line.strip():
            break
        command = json.loads(line)
        cpu_before = time.process_time()
        result = asyncio.run(run_round(args, requests, command))
        result["cpu"] = time.process_time() - cpu_before
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
