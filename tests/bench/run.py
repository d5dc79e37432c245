"""`make bench`: seed the bench database if needed, serve the site with gunicorn under
config.settings.bench and measure a trivial page, the search page and the profile page; then booking
creation (tests/bench/bookings.py), Midtrans notifications posted to the webhook (tests/bench/payments.py) and
WhatsApp deliveries sent by a real Celery worker through a fake Twilio (tests/bench/notifications.py).

Prints figures; never fails on them. Exits non-zero only when the benchmark itself broke: the server
did not start, a request failed, an existing route answered something other than 200 (for the webhook:
other than 200 or its rate limiter's 429), the booking or payments check found wrong data, or a WhatsApp
delivery was never sent or sent twice.

    python -m tests.bench.run [--requests 400] [--concurrency 8] [--workers 2] [--scenarios trivial,search]
    python -m tests.bench.run --scenarios payments [--notifications 10000]
    python -m tests.bench.run --scenarios notifications [--whatsapp-messages 5000] [--whatsapp-concurrency 4]
    python -m tests.bench.run --scenarios contention [--hold-seconds 10] [--lock-timeout-ms 300] [--threads 4]

The contention scenario (tests/bench/contention.py) needs no 20,000-companion seed: run alone, it only
creates and migrates the bench database.
"""

import argparse
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from tests.bench import seed
from tests.bench.load import HEADERS, Result, percentile, run_load

BASE_DIR = Path(__file__).resolve().parent.parent.parent
TARGETS = {"search": 3.0, "profile": 2.0}  # times the trivial page's server time (issue 3)


class BenchBroken(Exception):
    """The benchmark could not measure (as opposed to measuring something slow)."""


@dataclass
class Scenario:
    name: str
    route: str  # shown in the table and used to check that the URL exists
    make_paths: Callable[[random.Random, int], list[str]]


def _search_paths(rng: random.Random, count: int) -> list[str]:
    from django.conf import settings
    from django.utils import timezone

    from companions.models import Activity, City

    cities = list(City.objects.order_by("position").values_list("slug", flat=True))
    weights = [seed.CITY_WEIGHTS.get(slug, 1) for slug in cities]
    activities = list(Activity.objects.filter(is_active=True).values_list("slug", flat=True))
    today = timezone.now().astimezone(ZoneInfo(settings.DEFAULT_USER_TIME_ZONE)).date()
    queries = []
    for _ in range(40):  # a fixed set of searches, rotated
        day = today + timedelta(days=rng.randint(1, 13))
        slot = rng.randint(18, 41)  # 09:00–20:30
        parameters = {
            "city": rng.choices(cities, weights=weights)[0],
            "activity": rng.choice(activities),
            "date": day.isoformat(),
            "time": f"{slot // 2:02d}:{30 * (slot % 2):02d}",
            "hours": 2,
        }
        queries.append(f"/companions/?{urlencode(parameters)}")
    return [queries[index % len(queries)] for index in range(count)]


def _profile_paths(rng: random.Random, count: int) -> list[str]:
    from companions.models import CompanionProfile

    slugs = list(CompanionProfile.objects.filter(is_listed=True).order_by("pk").values_list("slug", flat=True))
    if not slugs:
        raise BenchBroken("no listed profiles in the bench database")
    chosen = rng.sample(slugs, min(200, len(slugs)))
    return [f"/c/{chosen[index % len(chosen)]}/" for index in range(count)]


SCENARIOS = [
    Scenario("trivial", "/terms/", lambda rng, count: ["/terms/"] * count),
    Scenario("search", "/companions/", _search_paths),
    Scenario("profile", "/c/<slug>/", _profile_paths),
]
# Measured by their own modules (tests/bench/<name>.py).
OTHER_SCENARIOS = ["bookings", "payments", "notifications", "contention"]


def route_exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path.replace("<slug>", "bench-route-probe"))
    except Resolver404:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def collect_static() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def start_server(
    *,
    port: int,
    workers: int,
    threads: int,
    log_path: Path,
    page_cache_seconds: int,
    settings_module: str = "config.settings.bench",
    extra_environment: dict[str, str] | None = None,
) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--threads", str(threads),
        "--keep-alive", "5",
        "--timeout", "30",
        "--graceful-timeout", "5",
        "--no-control-socket",
        "--logger-class", "core.redaction.RedactingGunicornLogger",
    ]  # fmt: skip
    if Path("/dev/shm").is_dir():  # noqa: S108 - gunicorn's heartbeat on tmpfs, as in the Dockerfile
        command += ["--worker-tmp-dir", "/dev/shm"]  # noqa: S108
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONUNBUFFERED": "1",
        "COMPANION_PAGE_CACHE_SECONDS": str(page_cache_seconds),
        **(extra_environment or {}),
    }
    # A session of its own: a Ctrl-C reaches only this script, whose `finally` then stops gunicorn cleanly.
    # Django and gunicorn both log to the console; into the file with them, so the table stays readable.
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _delete_queue(broker: str, queue: str) -> None:
    """The payments scenario's unconsumed follow-up tasks: dropped, so nothing runs them later."""
    import redis

    client = redis.Redis.from_url(broker)
    removed = client.llen(queue)
    client.delete(queue)
    print(f"bench: [payments] {removed:,} enqueued follow-up tasks dropped from {queue}")


def wait_until_healthy(server: subprocess.Popen, *, port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    last_problem = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchBroken(f"gunicorn exited with status {server.returncode} before answering")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz", headers=HEADERS)
            response = connection.getresponse()
            body = response.read()
            if response.status == 200:
                return
            last_problem = f"/healthz answered {response.status}: {body[:200]!r}"
        except OSError as error:
            last_problem = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        time.sleep(0.2)
    raise BenchBroken(f"gunicorn did not become healthy within {timeout_s:.0f} s ({last_problem})")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def print_log_tail(log_path: Path, lines: int = 20) -> None:
    if log_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-lines:]
        print("\n".join(f"gunicorn | {line}" for line in tail), file=sys.stderr)


def summarise(name: str, result: Result, concurrency: int) -> dict:
    server = [sample.server_ms for sample in result.samples if sample.server_ms is not None]
    client = [sample.client_ms for sample in result.samples]
    queries = [sample.queries for sample in result.samples if sample.queries is not None]
    most = max(result.samples, key=lambda sample: sample.queries or 0) if queries else None
    return {
        "scenario": name,
        "requests": len(result.samples),
        "concurrency": concurrency,
        "rps": len(result.samples) / result.elapsed_s if result.elapsed_s else 0.0,
        "server_p50": percentile(server, 0.50),
        "server_p95": percentile(server, 0.95),
        "client_p50": percentile(client, 0.50),
        "client_p95": percentile(client, 0.95),
        "queries_min": min(queries) if queries else None,
        "queries_max": max(queries) if queries else None,
        "most_queries_path": most.path if most else "",
        "non_200": len(result.failures) + len(result.errors),
    }


def print_table(rows: list[dict], missing: list[Scenario]) -> None:
    header = (
        f"{'scenario':<9} {'requests':>8} {'conc':>4} {'rps':>7} {'srv p50':>8} {'srv p95':>8} "
        f"{'cli p50':>8} {'cli p95':>8} {'queries':>9} {'non-200':>7}"
    )
    print()
    print("times in ms; srv = Server-Timing measured inside Django, cli = seen by the client (includes queueing)")
    print(header)
    print("-" * len(header))
    for row in rows:
        queries = "-" if row["queries_min"] is None else f"{row['queries_min']}–{row['queries_max']}"
        print(
            f"{row['scenario']:<9} {row['requests']:>8} {row['concurrency']:>4} {row['rps']:>7.1f} "
            f"{row['server_p50']:>8.1f} {row['server_p95']:>8.1f} {row['client_p50']:>8.1f} "
            f"{row['client_p95']:>8.1f} {queries:>9} {row['non_200']:>7}"
        )
    for scenario in missing:
        print(f"{scenario.name:<9} route not available yet ({scenario.route})")


def print_ratios(rows: list[dict]) -> None:
    by_name = {row["scenario"]: row for row in rows}
    trivial = by_name.get("trivial")
    if not trivial:
        return
    print()
    for name, target in TARGETS.items():
        row = by_name.get(name)
        if not row:
            continue
        for statistic in ("p50", "p95"):
            ratio = row[f"server_{statistic}"] / trivial[f"server_{statistic}"]
            verdict = "within target" if ratio <= target else "over target"
            print(
                f"{name}/trivial server {statistic}: {ratio:.2f}x "
                f"({row[f'server_{statistic}']:.1f} / {trivial[f'server_{statistic}']:.1f} ms; "
                f"target ≤ {target:g}x): {verdict}"
            )
        if row["queries_min"] != row["queries_max"]:
            print(
                f"{name}: query count varies {row['queries_min']}–{row['queries_max']} between requests; "
                f"most on {row['most_queries_path']}"
            )


def measure(arguments: argparse.Namespace, scenarios: list[Scenario], port: int) -> list[dict]:
    rows = []
    for scenario in scenarios:
        rng = random.Random(arguments.seed)
        paths = scenario.make_paths(rng, arguments.warmup + arguments.requests)
        warmup = run_load(port=port, paths=paths[: arguments.warmup], concurrency=arguments.concurrency, budget_s=30)
        result = run_load(
            port=port,
            paths=paths[arguments.warmup :],
            concurrency=arguments.concurrency,
            budget_s=arguments.budget,
        )
        row = summarise(scenario.name, result, arguments.concurrency)
        rows.append(row)
        stopped_early = " (time budget reached)" if row["requests"] < arguments.requests else ""
        print(
            f"bench: {scenario.name}: {row['requests']} requests in {result.elapsed_s:.1f} s{stopped_early}, "
            f"after {len(warmup.samples)} warm-up"
        )
        for failure in (warmup.failures + result.failures)[:5]:
            print(f"bench:   {failure.status} on {failure.path}")
        for error in (warmup.errors + result.errors)[:5]:
            print(f"bench:   {error}")
        if warmup.failures or warmup.errors:
            row["non_200"] += len(warmup.failures) + len(warmup.errors)
    return rows


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    seed.add_arguments(parser)
    parser.add_argument("--requests", type=int, default=400, help="measured requests per scenario")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests per scenario first")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads, each with one connection")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread, as in production)")
    parser.add_argument("--budget", type=float, default=60, help="seconds at most per scenario")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the request mix")
    parser.add_argument(
        "--scenarios",
        default=",".join([*(scenario.name for scenario in SCENARIOS), *OTHER_SCENARIOS]),
        help="comma-separated subset (bookings: booking creation and the same-slot hammer, in-process; "
        "payments: signed Midtrans notifications posted to the webhook, then a correctness check; "
        "notifications: queued WhatsApp deliveries sent by a real Celery worker through a fake Twilio; "
        "contention: 10 booking POSTs while one companion's row is held, and unrelated pages meanwhile)",
    )
    parser.add_argument(
        "--notifications", type=int, default=10_000, help="payments: notifications to post (30%% duplicates)"
    )
    parser.add_argument(
        "--payments-budget", type=float, default=600, help="payments: seconds at most for all notifications"
    )
    parser.add_argument(
        "--whatsapp-messages", type=int, default=5_000, help="notifications: queued WhatsApp deliveries to send"
    )
    parser.add_argument(
        "--whatsapp-concurrency", type=int, default=4, help="notifications: the Celery worker's prefork processes"
    )
    parser.add_argument(
        "--whatsapp-budget", type=float, default=600, help="notifications: seconds at most until all are sent"
    )
    parser.add_argument(
        "--twilio-latency-ms", type=float, default=0, help="notifications: how long the fake Twilio takes to answer"
    )
    parser.add_argument(
        "--hold-seconds", type=float, default=10, help="contention: how long the companion's row is held"
    )
    parser.add_argument(
        "--lock-timeout-ms",
        type=int,
        default=None,
        help="contention: the server's LOCK_TIMEOUT_MS (default: the settings' own, i.e. the environment's)",
    )
    parser.add_argument(
        "--page-cache",
        choices=("both", "off", "warm"),
        default="both",
        help="off: every request renders from the database; warm: the rendered-page cache is filled by a "
        "warm-up over every distinct URL first; both (default): one run of each",
    )
    arguments = parser.parse_args()
    known = [scenario.name for scenario in SCENARIOS] + OTHER_SCENARIOS
    unknown = set(arguments.scenarios.split(",")) - set(known)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {', '.join(known)}")
    return arguments


def run_payments(arguments: argparse.Namespace, log_path: Path, warmup: int) -> int:
    """The payments scenario against a gunicorn of its own (page cache on, as in production: confirming a
    booking invalidates the companion's cached pages). Returns the exit status (0: measured and correct)."""
    from tests.bench import payments as payment_bench

    port = free_port()
    print(
        f"\nbench: [payments] gunicorn on 127.0.0.1:{port}, {arguments.workers} workers x {arguments.threads} "
        f"threads; {arguments.notifications:,} notifications at concurrency {arguments.concurrency} "
        f"(server log: {log_path})"
    )
    # What the webhook enqueues after commit goes to a Redis queue nobody consumes during the run (as in
    # production, where workers send it), not into the measured request. Without Redis: in-process.
    broker = os.environ.get("REDIS_URL", "")
    queue = f"kompanion-bench-webhook-{os.getpid()}"
    server = start_server(
        port=port,
        workers=arguments.workers,
        threads=arguments.threads,
        log_path=log_path,
        page_cache_seconds=600,
        settings_module="tests.bench.webhook_settings" if broker else "config.settings.bench",
        extra_environment={"BENCH_CELERY_BROKER_URL": broker, "BENCH_CELERY_QUEUE": queue} if broker else None,
    )
    print(
        f"bench: [payments] follow-up tasks {'enqueued to Redis (queue ' + queue + ')' if broker else 'run in-process'}"
    )
    try:
        wait_until_healthy(server, port=port)
        correct = payment_bench.run(
            port=port,
            concurrency=arguments.concurrency,
            notifications=arguments.notifications,
            warmup=warmup,
            budget_s=arguments.payments_budget,
            seed=arguments.seed,
        )
    except BenchBroken as error:
        print(f"bench: BROKEN: {error}", file=sys.stderr)
        print_log_tail(log_path)
        return 2
    finally:
        stop_server(server)
        if broker:
            _delete_queue(broker, queue)
    if not correct:
        print("\nbench: BROKEN: the payments benchmark failed (see above)", file=sys.stderr)
        print_log_tail(log_path)
        return 1
    return 0


def main() -> int:
    arguments = parse_arguments()
    # SIGTERM (e.g. a CI timeout) unwinds through `finally` like Ctrl-C, so gunicorn is always stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    seed.configure_django()
    from django.conf import settings

    wanted = set(arguments.scenarios.split(","))
    if wanted <= {"contention"}:  # seeds its own small set: no 20,000 companions needed
        seed.ensure_database(recreate=arguments.reseed)
        seed.migrate()
    else:
        seed.ensure_seeded(companions=arguments.companions, reseed=arguments.reseed)
    collect_static()

    chosen = [scenario for scenario in SCENARIOS if scenario.name in wanted]
    available = [scenario for scenario in chosen if route_exists(scenario.route)]
    missing = [scenario for scenario in chosen if scenario not in available]

    Path(settings.BENCH_ROOT).mkdir(parents=True, exist_ok=True)
    log_path = Path(settings.BENCH_ROOT) / "gunicorn.log"
    log_path.write_text("")  # this run's lines only
    warmup = arguments.warmup  # the warm mode below raises it for the page scenarios
    modes = ["off", "warm"] if arguments.page_cache == "both" else [arguments.page_cache]
    if not chosen:  # e.g. --scenarios payments: no page to measure, no server to start for it
        modes = []
    all_rows = []
    for mode in modes:
        port = free_port()
        if mode == "warm":
            # Every distinct URL of the rotation once before measuring, so all measured requests are hits.
            arguments.warmup = max(arguments.warmup, arguments.requests)
        label = "rendered-page cache off" if mode == "off" else "rendered-page cache warm"
        print(
            f"\nbench: [{label}] gunicorn on 127.0.0.1:{port}, {arguments.workers} workers x {arguments.threads} "
            f"threads; {arguments.requests} requests per scenario at concurrency {arguments.concurrency} "
            f"(server log: {log_path})"
        )
        server = start_server(
            port=port,
            workers=arguments.workers,
            threads=arguments.threads,
            log_path=log_path,
            page_cache_seconds=0 if mode == "off" else 600,
        )
        try:
            wait_until_healthy(server, port=port)
            rows = measure(arguments, available, port)
        except BenchBroken as error:
            print(f"bench: BROKEN: {error}", file=sys.stderr)
            print_log_tail(log_path)
            return 2
        finally:
            stop_server(server)
        print(f"\n[{label}]")
        print_table(rows, missing)
        print_ratios(rows)
        all_rows += rows
    rows = all_rows

    if "bookings" in wanted:
        from tests.bench import bookings as booking_bench

        if not booking_bench.run():
            print("\nbench: BROKEN: the booking benchmark failed (see above)", file=sys.stderr)
            return 1
    if "payments" in wanted:
        status = run_payments(arguments, log_path, warmup)
        if status:
            return status
    if "notifications" in wanted:
        from tests.bench import notifications as notification_bench

        sent_once = notification_bench.run(
            deliveries=arguments.whatsapp_messages,
            concurrency=arguments.whatsapp_concurrency,
            budget_s=arguments.whatsapp_budget,
            latency_ms=arguments.twilio_latency_ms,
            seed=arguments.seed,
            log_path=Path(settings.BENCH_ROOT) / "celery-notifications.log",
        )
        if not sent_once:
            print("\nbench: BROKEN: the notifications benchmark failed (see above)", file=sys.stderr)
            return 1
    if "contention" in wanted:
        from tests.bench import contention as contention_bench

        measured = contention_bench.run(
            workers=arguments.workers,
            threads=arguments.threads,
            log_path=log_path,
            hold_s=arguments.hold_seconds,
            lock_timeout_ms=arguments.lock_timeout_ms,
        )
        if not measured:
            print("\nbench: BROKEN: the contention benchmark failed (see above)", file=sys.stderr)
            return 1
    broken = [row["scenario"] for row in rows if row["non_200"] or not row["requests"]]
    if broken:
        print(f"\nbench: BROKEN: failed requests in {', '.join(broken)} (see above and {log_path})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
