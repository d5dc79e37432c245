"""The daily level job over the bench history (issue 13): what bookings.tasks.recompute_standing_task runs,
bookings.reliability.recompute() then bookings.levels.recompute(), over every bench companion and the
seeded bookings (tests/bench/history.py), in seconds, queries and peak memory.

Three runs, each in a fresh Python process (so that its peak memory is its own: the rise of ru_maxrss over
the process after Django's setup; with --levels-tracemalloc also tracemalloc's peak of Python allocations,
which slows the run):
1. the first run: the level state is reset before it (no standings, no level history, every companion at
   the lowest level, reliability figures empty), as on the day levels shipped: every companion is written;
2. the same `now` again: must change nothing (checked: the job's own counts, and the standings, profiles,
   level history and notifications compared before and after; a change breaks the benchmark);
3. the next day (`now` + 1 day): a daily run, where bookings slide out of the windows.

What the job notifies (promotions, announced demotions) is enqueued to a private Redis queue, as a
production worker enqueues it (settings tests/bench/webhook_settings.py, broker BENCH_BROKER_URL), deleted
afterwards with the notifications themselves; with BENCH_BROKER_URL empty it runs in-process (slower).

The child: `python -m tests.bench.levels --now <ISO time> [--tracemalloc] [--explain]` prints one JSON line;
--explain also prints EXPLAIN (ANALYZE, BUFFERS) of the aggregate queries (bookings' figures) it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RESULT_MARK = "LEVELS-RESULT "
TABLE_AFTER = {"SELECT": r"\bFROM\s+\"?(\w+)", "INSERT": r"\bINTO\s+\"?(\w+)", "UPDATE": r"^UPDATE\s+\"?(\w+)",
               "DELETE": r"\bFROM\s+\"?(\w+)"}  # fmt: skip
SHOWN_STATEMENTS = 6
# The level job's own notifications (companions.levels._record's dedupe keys); the reset and the cleanup
# remove them and their deliveries.
LEVEL_NOTIFICATIONS = "level:%"


class Broken(Exception):
    pass


# --- The parent: reset, run, compare ---------------------------------------------------------------------


def reset_levels() -> None:
    """The level state as before the first run: no standings or level history, every companion Baru, no
    reliability figures, none of the job's notifications."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        _delete_level_notifications(cursor)
        cursor.execute("DELETE FROM companions_levelchange")
        cursor.execute("DELETE FROM companions_levelstanding")
        cursor.execute(
            "UPDATE companions_companionprofile SET level = 'baru', response_rate = NULL, completed_recently = 0, "
            "cancelled_recently = 0, repeat_share = NULL"
        )


def _delete_level_notifications(cursor) -> None:
    cursor.execute(
        "DELETE FROM notifications_delivery WHERE notification_id IN "
        "(SELECT id FROM notifications_notification WHERE dedupe_key LIKE %s)",
        [LEVEL_NOTIFICATIONS],
    )
    cursor.execute("DELETE FROM notifications_notification WHERE dedupe_key LIKE %s", [LEVEL_NOTIFICATIONS])


def snapshot() -> dict:
    """What the job writes, summed up: compared before and after the run that must change nothing."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM companions_levelchange")
        changes = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM notifications_notification WHERE dedupe_key LIKE %s", [LEVEL_NOTIFICATIONS]
        )
        notifications = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM notifications_delivery")
        deliveries = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), md5(string_agg(concat_ws(',', profile_id, computed_on, completed, customers, "
            "cancellation_rate, recent_subtotal, warned_on, demotion_on, demotion_to, override_reason), ';' "
            "ORDER BY profile_id)) FROM companions_levelstanding"
        )
        standings, standings_digest = cursor.fetchone()
        cursor.execute(
            "SELECT md5(string_agg(concat_ws(',', id, level, response_rate, completed_recently, cancelled_recently, "
            "repeat_share), ';' ORDER BY id)) FROM companions_companionprofile"
        )
        profiles_digest = cursor.fetchone()[0]
        cursor.execute("SELECT level, count(*) FROM companions_companionprofile GROUP BY level")
        levels = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM companions_levelstanding WHERE warned_on IS NOT NULL")
        announced = cursor.fetchone()[0]
    return {
        "level changes": changes,
        "notifications": notifications,
        "deliveries": deliveries,
        "standings": standings,
        "standings digest": standings_digest,
        "profiles digest": profiles_digest,
        "levels": levels,
        "demotions announced": announced,
    }


def _differences(before: dict, after: dict) -> list[str]:
    return [f"{key}: {before[key]} -> {after[key]}" for key in before if before[key] != after[key]]


def _child(*, now: datetime, settings_module: str, environment: dict, tracemalloc: bool, explain: bool) -> dict:
    command = [sys.executable, "-m", "tests.bench.levels", "--now", now.isoformat()]
    command += ["--tracemalloc"] * tracemalloc + ["--explain"] * explain
    completed = subprocess.run(  # noqa: S603 - our own module, with our own arguments
        command,
        cwd=BASE_DIR,
        env={**os.environ, **environment, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=3600,
    )
    result = None
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
        else:
            print(f"bench: [levels]   {line}")
    if completed.returncode or result is None:
        tail = "\n".join(completed.stderr.splitlines()[-15:])
        raise Broken(f"the level job's process exited with {completed.returncode}:\n{tail}")
    return result


def _describe(result: dict) -> str:
    seconds = result["seconds"]
    memory = (
        f"peak memory +{result['rss_delta_mb']:.0f} MB RSS over {result['rss_baseline_mb']:.0f} MB after Django's "
        f"setup (+{result['rss_reliability_mb']:.0f} MB by the end of reliability)"
    )
    if result.get("tracemalloc_peak_mb") is not None:
        memory += f", tracemalloc peak {result['tracemalloc_peak_mb']:.0f} MB"
    counts = ", ".join(f"{key} {value:,}" for key, value in result["levels"].items() if value)
    statements = sorted(result["statements"].items(), key=lambda item: -item[1][1])[:SHOWN_STATEMENTS]
    in_sql = sum(seconds for _count, seconds in result["statements"].values())
    where = "; ".join(f"{shape} {count:,}x {seconds:.1f} s" for shape, (count, seconds) in statements)
    return (
        f"{seconds['total']:.1f} s (reliability {seconds['reliability']:.1f} s, of which its aggregate queries "
        f"{seconds['reliability_figures']:.1f} s; levels {seconds['levels']:.1f} s, of which the aggregate query "
        f"{seconds['levels_figures']:.1f} s and standings_apply {seconds['standings_apply']:.1f} s); "
        f"{result['queries']:,} queries; {memory}; reliability changed {result['reliability_changed']:,} profiles; "
        f"levels: {counts or 'nothing'}\nbench: [levels]   where the time goes: {in_sql:.1f} s in SQL statements "
        f"({where}); {seconds['total'] - in_sql:.1f} s outside them (Python, commits, Redis)"
    )


def run(*, tracemalloc: bool = False, explain: bool = False) -> bool:
    """Prints the figures; returns False if the benchmark broke or the second run changed something."""
    from django.conf import settings
    from django.utils import timezone

    from tests.bench import history
    from tests.bench.run import delete_queue

    bookings, reviews = history.history_counts()
    if not bookings:
        print("bench: BROKEN: [levels] the bench database holds no booking history (seed --bookings)", file=sys.stderr)
        return False
    broker = settings.BENCH_BROKER_URL
    queue = f"kompanion-bench-levels-{os.getpid()}"
    settings_module = "tests.bench.webhook_settings" if broker else "config.settings.bench"
    environment = {"BENCH_CELERY_BROKER_URL": broker, "BENCH_CELERY_QUEUE": queue} if broker else {}
    print(
        f"\nbench: [levels] the daily job (reliability, then levels) over {bookings:,} history bookings and "
        f"{reviews:,} reviews; each run in a fresh process; notifications "
        f"{'enqueued to Redis (queue ' + queue + ')' if broker else 'sent in-process'}"
    )
    now = timezone.now()
    runs = [
        ("first run (level state reset)", now),
        ("second run, same time", now),
        ("next day", now + timedelta(days=1)),
    ]
    reset_levels()
    results = {}
    try:
        for label, at in runs:
            before = snapshot()
            result = _child(
                now=at, settings_module=settings_module, environment=environment, tracemalloc=tracemalloc,
                explain=explain and label.startswith("first"),
            )  # fmt: skip
            after = snapshot()
            results[label] = (result, before, after)
            print(f"bench: [levels] {label}: {_describe(result)}")
            print(
                f"bench: [levels]   after it: levels {after['levels']}, {after['demotions announced']:,} demotions "
                f"announced, {after['level changes']:,} history rows, {after['notifications']:,} notifications"
            )
    except Broken as error:
        print(f"bench: BROKEN: [levels] {error}", file=sys.stderr)
        return False
    finally:
        if broker:
            delete_queue(broker, queue, label="levels")
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            _delete_level_notifications(cursor)
    second, before, after = results["second run, same time"]
    changed = {key: value for key, value in second["levels"].items() if value}
    differences = _differences(before, after)
    if second["reliability_changed"] or changed or differences:
        print(
            f"bench: BROKEN: [levels] the second run changed something: reliability "
            f"{second['reliability_changed']:,} profiles, levels {changed}, {'; '.join(differences) or 'no rows'}",
            file=sys.stderr,
        )
        return False
    print("bench: [levels] the second run changed nothing (job counts all 0; standings, profiles, history equal)")
    return True


# --- The child: one run in a fresh process ---------------------------------------------------------------


def _timed(function, into: dict, key: str):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            into[key] = into.get(key, 0.0) + time.perf_counter() - started

    return wrapper


def _shape(sql: str) -> str:
    """A statement's verb and table, e.g. "UPDATE companions_companionprofile", for the tally of where the
    time goes."""
    verb = sql.split(None, 1)[0].upper() if sql.strip() else "?"
    found = re.search(TABLE_AFTER[verb], sql) if verb in TABLE_AFTER else None
    shape = f"{verb} {found.group(1)}" if found else verb
    if verb == "SELECT" and " GROUP BY " in sql:
        shape += " (aggregate)"
    if sql.rstrip().endswith("FOR UPDATE"):
        shape += " FOR UPDATE"
    return shape


def _megabytes_of_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child(*, now: datetime, trace: bool, explain: bool) -> dict:
    import django

    django.setup()
    import tracemalloc

    from django.db import connection

    from bookings import levels, reliability
    from companions import levels as companion_levels

    connection.ensure_connection()
    seconds: dict[str, float] = {}
    # The module attributes recompute() calls: timed where they are looked up.
    reliability.figures = _timed(reliability.figures, seconds, "reliability_figures")
    levels.figures = _timed(levels.figures, seconds, "levels_figures")
    companion_levels.standings_apply = _timed(companion_levels.standings_apply, seconds, "standings_apply")
    queries = 0
    aggregates: list[tuple[str, object]] = []
    statements: dict[str, list] = {}  # shape -> [count, seconds]

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        if explain and " GROUP BY " in sql and "bookings_booking" in sql:
            aggregates.append((sql, params))
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            tally = statements.setdefault(_shape(sql), [0, 0.0])
            tally[0] += 1
            tally[1] += time.perf_counter() - started

    baseline = _megabytes_of_rss()
    if trace:
        tracemalloc.start()
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        reliability_changed = reliability.recompute(now)
        middle = time.perf_counter()
        rss_reliability = _megabytes_of_rss()
        counts = levels.recompute(now)
        finished = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    rss = _megabytes_of_rss()
    for sql, params in aggregates:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            print(f"EXPLAIN ANALYZE of {sql[:160]}...")
            for (line,) in cursor.fetchall():
                print(f"  {line}")
    seconds |= {"total": finished - started, "reliability": middle - started, "levels": finished - middle}
    return {
        "seconds": seconds,
        "queries": queries,
        "reliability_changed": reliability_changed,
        "levels": counts,
        "rss_baseline_mb": baseline,
        "rss_delta_mb": rss - baseline,
        "rss_reliability_mb": rss_reliability - baseline,
        "statements": statements,
        "tracemalloc_peak_mb": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="one run of the daily level job (tests/bench/levels.py)")
    parser.add_argument("--now", required=True, help="the job's `now`, ISO 8601 with a zone")
    parser.add_argument("--tracemalloc", action="store_true", help="also tracemalloc's peak (slower)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the aggregate queries afterwards")
    arguments = parser.parse_args()
    if "bench" not in os.environ.get("DJANGO_SETTINGS_MODULE", ""):
        parser.error("run by tests/bench/run.py, with the bench settings")
    result = child(now=datetime.fromisoformat(arguments.now), trace=arguments.tracemalloc, explain=arguments.explain)
    print(RESULT_MARK + json.dumps(result))


if __name__ == "__main__":
    main()
