"""`make soak` (issue 19): the locust scenario of tests/soak/locustfile.py against gunicorn + PostgreSQL +
Redis + a real Celery worker, for a bounded time, then the checks that the data is still right.

Creates, migrates and seeds a database of its own (SOAK_DATABASE_URL, default kompanion_soak: --companions
bench companions through tests/bench/seed.py, plus --customers customers, all with the bench's known
password), collects the static files, starts a Celery worker on Redis (SOAK_BROKER_URL, a private queue) and
gunicorn (--workers x --threads, tests/bench/run.py's start_server with tests/soak/settings.py), and runs
locust headless (--users, --spawn-rate, --soak-seconds) with --csv. While it runs, PostgreSQL's own counters
for the database (pg_stat_database) are sampled every 2 s.

Prints throughput (requests/s), p50/p95 per request type and overall, the error rate, what the journeys did,
PostgreSQL's transactions/s and connections, and the load average before and after (the machine may be
shared). Then, once the worker has emptied its queue, the checks:

* the ledger balances (payments.ledger.check(), unbalanced_journals());
* no two live bookings (requested, awaiting payment, confirmed, disputed: bookings/migrations/0002) of one
  companion overlap in [start, hold_until), nor of one customer in [start, end) (a self-join in SQL);
* every paid booking has its payment's settlement journal;
* no notification delivery failed, and none is left unsent; no task raised in the worker's log.

Exits 2 when the soak itself broke (the server or the worker did not start or died, locust did not run),
1 when a check failed or more than --max-error-rate of the requests failed (said loudly), otherwise 0.

    python -m tests.soak.run [--soak-seconds 120] [--users 30] [--spawn-rate 10] [--workers 2 --threads 4]
    python -m tests.soak.run --capacity [--capacity-users 2,4,8,16,32] [--step-seconds 20]   # one web process

--capacity measures what ONE web process (gunicorn 1 worker x --threads) serves on the browse mix alone, in a
closed loop (no think time) at each concurrency after an uncounted warm-up (the caches filled as in a running
site): requests/s, p50 and p95, PostgreSQL's transactions/s, and the best rate with p95 under --p95-budget-ms
(500). --json PATH also writes every figure and check (tests/soak/test_soak_smoke.py reads it).
"""

import argparse
import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CUSTOMER_DOMAIN = "customers.soak.kompanion.test"
PASSWORD = "bench-password-not-secret"  # noqa: S105 - tests/bench/seed.py's, for every soak account
HOLDING = ("requested", "awaiting_payment", "confirmed", "disputed")  # bookings/migrations/0002's live bookings


class SoakBroken(Exception):
    """The soak could not run (as opposed to running and finding something wrong)."""


def configure_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.soak.settings"
    import django

    django.setup()


# --- The world ---------------------------------------------------------------------------------------------


def ensure_world(*, companions: int, customers: int, reseed: bool) -> None:
    """The database present, migrated and seeded (the bench's seeder: it leaves a database holding exactly
    that many companions alone), `customers` customers with verified emails, and the static files (unless
    SOAK_PLAIN_STATIC: then pages link unhashed static files and nothing is collected)."""
    from django.conf import settings

    from tests.bench import seed
    from tests.bench.run import collect_static

    seed.ensure_database(recreate=reseed)
    seed.migrate()
    ensure_reference_data()
    seed.ensure_seeded(companions=companions, reseed=False)
    ensure_customers(customers)
    if not settings.SOAK_PLAIN_STATIC:
        collect_static()


def ensure_reference_data() -> None:
    """Cities, activities and languages, as migration 0002 seeds them: a database copied from a test database
    that a transactional test flushed has none (tests/soak/test_soak_smoke.py copies one)."""
    import importlib

    from django.apps import apps

    from companions.models import City

    if not City.objects.exists():
        importlib.import_module("companions.migrations.0002_seed_reference_data").seed(apps, None)


def customer_email(number: int) -> str:
    return f"customer{number:04d}@{CUSTOMER_DOMAIN}"


def ensure_customers(count: int) -> list[str]:
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User

    emails = [customer_email(number) for number in range(count)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        User(
            email=email,
            full_name=f"Soak Customer {number}",
            role=Role.CUSTOMER,
            password=password,
            time_zone=settings.DEFAULT_USER_TIME_ZONE,
        )
        for number, email in enumerate(emails)
        if email not in existing
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )
    return emails


def write_plan(path: Path, *, customers: int, rng_seed: int = 2026) -> dict:
    """What the locust users need from the database: the bench's searches, profiles to browse and book (with
    their shortest booking), the companions' emails, the customers' accounts, the password."""
    from django.utils import timezone

    from companions import early_access
    from companions.models import CompanionProfile
    from tests.bench.run import _search_paths

    rng = random.Random(rng_seed)
    rows = list(
        CompanionProfile.objects.filter(is_listed=True, is_paused=False, activities__isnull=False)
        # Not in their early window: those show only to Kompanion Plus members (companions/early_access.py).
        .filter(listed_at__lte=early_access.listed_by(timezone.now()) - timedelta(hours=1))
        .distinct()
        .order_by("pk")
        .values_list("slug", "min_hours", "user__email")
    )
    if not rows:
        raise SoakBroken("no bookable companions in the soak database")
    chosen = rng.sample(rows, min(500, len(rows)))
    plan = {
        "password": PASSWORD,
        "searches": _search_paths(rng, 40),
        "profiles": [[slug, hours] for slug, hours, _email in chosen],
        "bookable": [list(row) for row in chosen],
        "customers": [customer_email(number) for number in range(customers)],
    }
    path.write_text(json.dumps(plan))
    return plan


# --- Processes ---------------------------------------------------------------------------------------------


def start_worker(*, queue: str, concurrency: int, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool", "prefork", "--concurrency", str(concurrency),
        "--queues", queue, "--hostname", f"soak-{queue[-8:]}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel", "INFO",
    ]  # fmt: skip
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.soak.settings",
        "SOAK_CELERY_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_worker_ready(worker: subprocess.Popen, log_path: Path, *, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SoakBroken(f"the Celery worker exited with status {worker.returncode} (log: {log_path})")
        if b"ready." in log_path.read_bytes():
            return
        time.sleep(0.3)
    raise SoakBroken(f"the Celery worker was not ready within {timeout_s:.0f} s (log: {log_path})")


def queue_length(queue: str) -> int:
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(queue)


def wait_queue_empty(queue: str, worker: subprocess.Popen, *, timeout_s: float = 60) -> int:
    """Waits until the worker has taken every task (and a moment for the last to finish); returns what is left."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and worker.poll() is None:
        if queue_length(queue) == 0:
            time.sleep(2)
            if queue_length(queue) == 0:
                return 0
        time.sleep(0.5)
    return queue_length(queue)


def delete_queue(queue: str) -> None:
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


class PostgresSampler:
    """pg_stat_database of the soak database every `interval` s in a thread: transactions, connections."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="soak-pg-sampler")

    def _connect(self):
        from tests.bench.seed import direct_connection

        return direct_connection()

    def _run(self) -> None:
        with self._connect() as connection:
            while True:
                row = connection.execute(
                    "SELECT xact_commit + xact_rollback, numbackends, tup_fetched, tup_inserted + tup_updated "
                    "+ tup_deleted, blks_hit, blks_read, "
                    "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active') "
                    "FROM pg_stat_database WHERE datname = current_database()"
                ).fetchone()
                self.samples.append(
                    dict(
                        zip(
                            ("at", "xacts", "connections", "fetched", "written", "hit", "read", "active"),
                            (time.monotonic(), *row),
                            strict=True,
                        )
                    )
                )
                if self._stop.wait(self.interval):
                    return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if len(self.samples) < 2:
            return {}
        first, last = self.samples[0], self.samples[-1]
        seconds = last["at"] - first["at"]
        return {
            "transactions_per_s": (last["xacts"] - first["xacts"]) / seconds,
            "rows_fetched_per_s": (last["fetched"] - first["fetched"]) / seconds,
            "rows_written_per_s": (last["written"] - first["written"]) / seconds,
            "connections_max": max(sample["connections"] for sample in self.samples),
            "active_max": max(sample["active"] for sample in self.samples),
            "cache_hit_ratio": (last["hit"] - first["hit"])
            / max(1, (last["hit"] - first["hit"]) + (last["read"] - first["read"])),
        }


def run_locust(
    *,
    port: int,
    users: int,
    spawn_rate: float,
    seconds: int,
    plan_path: Path,
    out_dir: Path,
    tag: str,
    customers: int = 0,
    companions: int = 0,
    think_scale: float = 1.0,
    only_browse: bool = False,
) -> tuple[list[dict], dict]:
    """locust headless in a process of its own (gevent stays out of this one); returns its stats rows (the
    CSV's, the "Aggregated" row last) and the journeys' outcomes."""
    prefix = out_dir / tag
    outcomes_path = out_dir / f"{tag}-outcomes.json"
    outcomes_path.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "locust", "-f", str(BASE_DIR / "tests" / "soak" / "locustfile.py"),
        "--headless", "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s",
        "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary", "--stop-timeout", "5",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    if only_browse:
        command.append("BrowseUser")
    environment = {
        **os.environ,
        "SOAK_PLAN": str(plan_path),
        "SOAK_OUTPUT": str(outcomes_path),
        "SOAK_THINK_SCALE": str(think_scale),
        "SOAK_CUSTOMERS": str(customers),
        "SOAK_COMPANIONS": str(companions),
    }
    log_path = out_dir / f"{tag}-locust.log"
    with log_path.open("wb") as log:
        finished = subprocess.run(  # noqa: S603
            command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 120
        )
    stats_path = Path(f"{prefix}_stats.csv")
    if not stats_path.exists():
        raise SoakBroken(f"locust exited with status {finished.returncode} and no statistics (log: {log_path})")
    with stats_path.open() as file:
        rows = list(csv.DictReader(file))
    outcomes = json.loads(outcomes_path.read_text()) if outcomes_path.exists() else {}
    return rows, outcomes


def figures_of(row: dict) -> dict:
    count = int(row["Request Count"])
    failures = int(row["Failure Count"])
    return {
        "name": row["Name"],
        "requests": count,
        "failures": failures,
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]) if count else 0.0,
        "p95_ms": float(row["95%"]) if count else 0.0,
    }


def print_stats(rows: list[dict]) -> dict:
    figures = [figures_of(row) for row in rows]
    print(f"\n{'request':52} {'count':>7} {'fail':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for item in figures:
        print(
            f"{item['name'][:52]:52} {item['requests']:>7,} {item['failures']:>5} {item['rps']:>7.1f} "
            f"{item['p50_ms']:>7.0f} {item['p95_ms']:>7.0f}"
        )
    return figures[-1]  # "Aggregated"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"


# --- The checks --------------------------------------------------------------------------------------------


def check_world(*, since: datetime) -> dict:
    """The checks after the soak: each a (passed, detail) pair, plus counts of what the soak made."""
    from django.db import connection
    from django.db.models import Count

    from bookings.models import Booking
    from notifications.models import Delivery
    from payments import ledger
    from payments.models import Journal, Payment

    report = ledger.check()
    unbalanced = ledger.unbalanced_journals()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
                ON a.companion_id = b.companion_id AND a.id < b.id
                AND tstzrange(a.start, a.hold_until, '[)') && tstzrange(b.start, b.hold_until, '[)')
                WHERE a.status IN {HOLDING} AND b.status IN {HOLDING}"""  # noqa: S608 - constants only
        )
        companion_overlaps = cursor.fetchone()[0]
        cursor.execute(
            f"""SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
                ON a.customer_id = b.customer_id AND a.id < b.id
                AND tstzrange(a.start, a."end", '[)') && tstzrange(b.start, b."end", '[)')
                WHERE a.status IN {HOLDING} AND b.status IN {HOLDING}"""  # noqa: S608 - constants only
        )
        customer_overlaps = cursor.fetchone()[0]
    paid = list(Booking.objects.filter(paid_at__isnull=False).values_list("pk", flat=True))
    settled_orders = Payment.objects.filter(booking_id__in=paid, paid_at__isnull=False).values_list(
        "booking_id", "order_id"
    )
    journals = set(
        Journal.objects.filter(reference__in=[f"payment:{order}:settled" for _b, order in settled_orders]).values_list(
            "reference", flat=True
        )
    )
    with_journal = {booking for booking, order in settled_orders if f"payment:{order}:settled" in journals}
    without_journal = sorted(set(paid) - with_journal)
    deliveries = dict(
        Delivery.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("id")).order_by()
    )
    failed = sum(deliveries.get(status, 0) for status in (Delivery.Status.FAILED, Delivery.Status.UNDELIVERED))
    unsent = sum(deliveries.get(status, 0) for status in (Delivery.Status.PENDING, Delivery.Status.SENDING))
    made = dict(Booking.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("id")).order_by())
    return {
        "checks": {
            "ledger balanced": (
                report.balanced and not unbalanced,
                f"{report.journals:,} journals, total {report.total}",
            ),
            "no companion overlap": (companion_overlaps == 0, f"{companion_overlaps} overlapping pairs"),
            "no customer overlap": (customer_overlaps == 0, f"{customer_overlaps} overlapping pairs"),
            "paid bookings have journals": (
                not without_journal,
                f"{len(paid):,} paid, {len(without_journal)} without: {without_journal[:5]}",
            ),
            "no delivery failed or unsent": (not failed and not unsent, f"deliveries since start {deliveries}"),
        },
        "bookings_made": made,
        "paid_in_soak": Booking.objects.filter(created_at__gte=since, paid_at__isnull=False).count(),
        "deliveries": deliveries,
    }


TASK_DONE = re.compile(r"Task ([\w.]+)\[[^\]]+\] succeeded in ([0-9.]+)s")


def worker_tasks(log_path: Path) -> dict[str, tuple[int, float]]:
    """Tasks the worker finished (its INFO log): name -> (how many, mean seconds)."""
    done: dict[str, list[float]] = {}
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    for name, seconds in TASK_DONE.findall(text):
        done.setdefault(name, []).append(float(seconds))
    return {name: (len(times), sum(times) / len(times)) for name, times in sorted(done.items())}


def worker_errors(log_path: Path) -> list[str]:
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    return [line for line in lines if "raised unexpected" in line or "ERROR/" in line or "Traceback" in line]


# --- The runs ----------------------------------------------------------------------------------------------


def soak(arguments: argparse.Namespace) -> dict:
    """One soak: worker, server, locust, the checks. Returns the figures (SoakBroken if it could not run)."""
    from django.utils import timezone

    from tests.bench.notifications import _stop_worker
    from tests.bench.run import free_port, print_log_tail, start_server, stop_server, wait_until_healthy

    out_dir = Path(arguments.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan_path = out_dir / "plan.json"
    write_plan(plan_path, customers=arguments.customers)
    queue = f"kompanion-soak-{uuid.uuid4().hex[:12]}"
    os.environ["SOAK_CELERY_QUEUE"] = queue  # gunicorn inherits it: its tasks go where the worker listens
    server_log, worker_log = out_dir / "gunicorn.log", out_dir / "celery.log"
    server_log.write_text("")
    worker_log.write_text("")
    customers = arguments.customer_users if arguments.customer_users is not None else max(1, arguments.users * 3 // 10)
    companions = arguments.companion_users if arguments.companion_users is not None else max(1, arguments.users // 10)
    port = free_port()
    since = timezone.now()
    load_before = load_average()
    print(
        f"soak: {arguments.users} users ({customers} customers on the journey, {companions} companions answering, "
        f"{arguments.users - customers - companions} browsing) for {arguments.soak_seconds} s against gunicorn "
        f"{arguments.workers} x {arguments.threads} threads on :{port} + a Celery worker (prefork x "
        f"{arguments.worker_concurrency}, queue {queue}); load average {load_before}"
    )
    worker = start_worker(queue=queue, concurrency=arguments.worker_concurrency, log_path=worker_log)
    server = start_server(
        port=port,
        workers=arguments.workers,
        threads=arguments.threads,
        log_path=server_log,
        page_cache_seconds=600,
        settings_module="tests.soak.settings",
    )
    sampler = PostgresSampler()
    try:
        try:
            wait_until_healthy(server, port=port, timeout_s=60)
        except Exception as error:
            print_log_tail(server_log)
            raise SoakBroken(str(error)) from error
        wait_worker_ready(worker, worker_log)
        sampler.start()
        started = time.monotonic()
        rows, outcomes = run_locust(
            port=port,
            users=arguments.users,
            spawn_rate=arguments.spawn_rate,
            seconds=arguments.soak_seconds,
            plan_path=plan_path,
            out_dir=out_dir,
            tag="soak",
            customers=customers,
            companions=companions,
            think_scale=arguments.think_scale,
        )
        elapsed = time.monotonic() - started
        postgres = sampler.stop()
        load_after = load_average()
        if server.poll() is not None:
            raise SoakBroken(f"gunicorn died during the soak (status {server.returncode}, log {server_log})")
        if worker.poll() is not None:
            raise SoakBroken(f"the Celery worker died during the soak (status {worker.returncode}, log {worker_log})")
        left = wait_queue_empty(queue, worker)
    finally:
        sampler.stop()
        stop_server(server)
        _stop_worker(worker)
        delete_queue(queue)

    total = print_stats(rows)
    error_rate = total["failures"] / total["requests"] if total["requests"] else 1.0
    print(
        f"\nsoak: {total['requests']:,} requests in {elapsed:.0f} s: {total['rps']:.1f} requests/s, "
        f"p50 {total['p50_ms']:.0f} ms, p95 {total['p95_ms']:.0f} ms, error rate {error_rate:.2%}"
    )
    print(f"soak: journeys {json.dumps(outcomes, sort_keys=True)}")
    if postgres:
        print(
            f"soak: PostgreSQL {postgres['transactions_per_s']:.0f} transactions/s, "
            f"{postgres['rows_fetched_per_s']:.0f} rows fetched/s, "
            f"{postgres['rows_written_per_s']:.0f} rows written/s, "
            f"connections max {postgres['connections_max']} ({postgres['active_max']} active at once), "
            f"cache hit ratio {postgres['cache_hit_ratio']:.3f}"
        )
    print(f"soak: load average before {load_before}, after {load_after}")

    tasks = worker_tasks(worker_log)
    print(
        f"soak: the worker finished {sum(count for count, _mean in tasks.values()):,} tasks: "
        + ", ".join(
            f"{name.rsplit('.', 1)[-1]} {count} (mean {mean * 1000:.0f} ms)" for name, (count, mean) in tasks.items()
        )
    )
    world = check_world(since=since)
    errors = worker_errors(worker_log)
    world["checks"]["worker queue emptied"] = (left == 0, f"{left} tasks left in the queue")
    world["checks"]["no task raised in the worker"] = (not errors, f"{len(errors)} error lines: {errors[:3]}")
    print(f"soak: bookings made {world['bookings_made']}, paid {world['paid_in_soak']}")
    for name, (passed, detail) in world["checks"].items():
        print(f"check: {'ok  ' if passed else 'FAIL'} {name}: {detail}")
    return {
        "users": arguments.users,
        "seconds": arguments.soak_seconds,
        "elapsed_s": elapsed,
        "total": total,
        "by_request": [figures_of(row) for row in rows[:-1]],
        "error_rate": error_rate,
        "outcomes": outcomes,
        "postgres": postgres,
        "load_before": load_before,
        "load_after": load_after,
        "checks": {name: passed for name, (passed, _detail) in world["checks"].items()},
        "paid_in_soak": world["paid_in_soak"],
        "worker_tasks": tasks,
        "bookings_made": world["bookings_made"],
    }


def capacity(arguments: argparse.Namespace) -> dict:
    """What one web process (gunicorn 1 worker x --threads) serves on the browse mix, closed loop."""
    from tests.bench.run import free_port, start_server, stop_server, wait_until_healthy

    out_dir = Path(arguments.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan_path = out_dir / "plan.json"
    write_plan(plan_path, customers=arguments.customers)
    port = free_port()
    server_log = out_dir / "gunicorn-capacity.log"
    server = start_server(
        port=port,
        workers=1,
        threads=arguments.threads,
        log_path=server_log,
        page_cache_seconds=600,
        settings_module="tests.soak.settings",
    )
    levels = []
    try:
        wait_until_healthy(server, port=port, timeout_s=60)
        # A warm-up first, not counted: the page and fragment caches filled as in a running site, so that the
        # first level does not pay for every later one's cache.
        run_locust(
            port=port,
            users=8,
            spawn_rate=8,
            seconds=arguments.warmup_seconds,
            plan_path=plan_path,
            out_dir=out_dir,
            tag="capacity-warmup",
            think_scale=0,
            only_browse=True,
        )
        for users in [int(value) for value in arguments.capacity_users.split(",")]:
            load = load_average()
            sampler = PostgresSampler()
            sampler.start()
            rows, _outcomes = run_locust(
                port=port,
                users=users,
                spawn_rate=users,
                seconds=arguments.step_seconds,
                plan_path=plan_path,
                out_dir=out_dir,
                tag=f"capacity-{users}",
                think_scale=0,
                only_browse=True,
            )
            postgres = sampler.stop()
            total = figures_of(rows[-1])
            total.update(users=users, load=load, postgres=postgres)
            levels.append(total)
            print(
                f"capacity: 1 process x {arguments.threads} threads, {users:>3} users closed loop: "
                f"{total['rps']:6.1f} requests/s, p50 {total['p50_ms']:5.0f} ms, p95 {total['p95_ms']:5.0f} ms, "
                f"{total['failures']} failed; PostgreSQL {postgres.get('transactions_per_s', 0):.0f} transactions/s, "
                f"{postgres.get('connections_max', 0)} connections; load average {load}"
            )
    finally:
        stop_server(server)
    within = [level for level in levels if level["p95_ms"] <= arguments.p95_budget_ms and not level["failures"]]
    best = max(within, key=lambda level: level["rps"]) if within else None
    if best:
        print(
            f"capacity: one web process serves {best['rps']:.1f} requests/s of the browse mix with p95 "
            f"{best['p95_ms']:.0f} ms (<= {arguments.p95_budget_ms} ms) at {best['users']} concurrent users"
        )
    else:
        print(f"capacity: no level kept p95 under {arguments.p95_budget_ms} ms")
    return {"levels": levels, "best": best}


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soak-seconds", type=int, default=120)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--customer-users", type=int, default=None, help="default 30%% of --users")
    parser.add_argument("--companion-users", type=int, default=None, help="default 10%% of --users")
    parser.add_argument("--think-scale", type=float, default=1.0, help="scales the users' think times")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery prefork processes")
    parser.add_argument("--companions", type=int, default=2_000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--reseed", action="store_true", help="drop the soak database and seed it again")
    parser.add_argument("--max-error-rate", type=float, default=0.05)
    parser.add_argument("--capacity", action="store_true", help="measure one web process instead of soaking")
    parser.add_argument("--capacity-users", default="2,4,8,16,32")
    parser.add_argument("--step-seconds", type=int, default=20)
    parser.add_argument("--warmup-seconds", type=int, default=15, help="before the capacity levels, not counted")
    parser.add_argument("--p95-budget-ms", type=int, default=500)
    parser.add_argument("--out-dir", default=None, help="CSV, logs (default SOAK_ROOT/run)")
    parser.add_argument("--json", default=None, help="also write the figures and checks here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # unwinds through `finally`
    configure_django()
    from django.conf import settings

    arguments.out_dir = arguments.out_dir or str(Path(settings.SOAK_ROOT) / "run")
    try:
        ensure_world(companions=arguments.companions, customers=arguments.customers, reseed=arguments.reseed)
        figures = capacity(arguments) if arguments.capacity else soak(arguments)
    except SoakBroken as error:
        print(f"soak: BROKEN: {error}", file=sys.stderr)
        return 2
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(figures, indent=2, default=str))
    if arguments.capacity:
        return 0
    status = 0
    if not all(figures["checks"].values()):
        print("soak: FAILED: a check after the soak failed (see above)", file=sys.stderr)
        status = 1
    if figures["error_rate"] > arguments.max_error_rate:
        print(
            f"soak: FAILED: {figures['error_rate']:.1%} of the requests failed (more than "
            f"{arguments.max_error_rate:.0%}); see {arguments.out_dir}",
            file=sys.stderr,
        )
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
