"""A small closed-loop load generator: `concurrency` threads, each with its own keep-alive HTTP
connection, take the next path from a shared list until it is used up or the time budget ends.

Records the client-side latency and the server's own figures (Server-Timing and X-Query-Count headers
from tests.bench.middleware) for every request, and optionally what an `inspect` function reads from each
body (how many results or free times a page carried), so a figure is never taken from an empty page.
"""

import http.client
import itertools
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")
# What the TLS proxy in front of gunicorn adds in production (bench.py trusts it as prod.py does).
HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https", "User-Agent": "kompanion-bench"}


@dataclass
class Sample:
    path: str
    status: int
    client_ms: float
    server_ms: float | None
    queries: int | None
    content: Any = None  # what `inspect` read from the body, if given


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    elapsed_s: float = 0.0
    errors: list[str] = field(default_factory=list)  # connection failures, not HTTP statuses

    @property
    def failures(self) -> list[Sample]:
        return [sample for sample in self.samples if sample.status != 200]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation): a value that was actually measured."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def fetch(
    connection: http.client.HTTPConnection,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    inspect: Callable[[bytes], Any] | None = None,
) -> Sample:
    started = time.perf_counter()
    connection.request("GET", path, headers=headers or HEADERS)
    response = connection.getresponse()
    body = response.read()
    client_ms = (time.perf_counter() - started) * 1000
    timing = SERVER_TIMING.search(response.getheader("Server-Timing", ""))
    queries = response.getheader("X-Query-Count")
    return Sample(
        path=path,
        status=response.status,
        client_ms=client_ms,
        server_ms=float(timing.group(1)) if timing else None,
        queries=int(queries) if queries is not None else None,
        content=inspect(body) if inspect and response.status == 200 else None,
    )


def run_items(
    *,
    port: int,
    items: Sequence,
    send: Callable[[http.client.HTTPConnection, object], Sample],
    describe: Callable[[object], str],
    concurrency: int,
    deadline: float,
    timeout_s: float = 30,
    thread_name: str = "bench-client",
) -> Result:
    """The closed loop: `concurrency` threads with a keep-alive connection each take the next item in
    order and `send` it, until none are left or perf_counter() passes `deadline`."""
    result = Result()
    lock = threading.Lock()
    next_index = itertools.count()

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    index = next(next_index)
                if index >= len(items):
                    return
                try:
                    sample = send(connection, items[index])
                except (OSError, http.client.HTTPException) as error:
                    connection.close()  # reconnects on the next request
                    with lock:
                        result.errors.append(f"{describe(items[index])}: {type(error).__name__}: {error}")
                    continue
                with lock:
                    result.samples.append(sample)
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=thread_name) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    result.elapsed_s = time.perf_counter() - started
    return result


def run_load(
    *,
    port: int,
    paths: Sequence[str],
    concurrency: int,
    budget_s: float,
    timeout_s: float = 30,
    headers: dict[str, str] | None = None,
    inspect: Callable[[bytes], Any] | None = None,
) -> Result:
    """Requests every path once (in order, spread over the threads), stopping early after budget_s.
    `headers` replace HEADERS (e.g. HEADERS plus a session cookie); `inspect` reads each 200 body."""
    return run_items(
        port=port,
        items=paths,
        send=lambda connection, path: fetch(connection, path, headers=headers, inspect=inspect),
        describe=str,
        concurrency=concurrency,
        deadline=time.perf_counter() + budget_s,
        timeout_s=timeout_s,
    )
