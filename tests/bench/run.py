"""`make bench`: seed the bench database if needed, serve the site with gunicorn under
config.settings.bench and measure a trivial page, the search page, the profile page and the slot picker
(booking step 1, signed in as the bench customer) in three cache modes: nothing cached; the rendered-page
cache off with per-companion fragments cached (production right after a write); the rendered-page cache
warm. --runs times each; then booking creation (tests/bench/bookings.py), Midtrans notifications posted to
the webhook (tests/bench/payments.py) and WhatsApp deliveries sent by a real Celery worker through a fake
Twilio (tests/bench/notifications.py). Issue 13: search sorted best rated (`rated`: the search scenario's
searches; `rated_city`: a city's list alone), the profile of a companion with hundreds of reviews
(`reviewed`), and the daily level job over 1,000,000 bookings (`levels`, tests/bench/levels.py); these seed
the booking history with 300,000 reviews (tests/bench/history.py) unless --bookings/--reviews say otherwise.
Issue 14: `chat` (tests/bench/chat.py), 500 conversations polled by both parties every 4 s plus 50 messages
a second, open loop, on the page scenarios' gunicorn; then how many polls a second one worker serves.
Issue 16: `promo` (tests/bench/promo.py), booking requests by 20 customers at once without a code, then with
one shared promo code (bookings per second, p50/p95, the ratio with/without), and the hammer through the
server: 50 customers at the same instant against a code with 10 uses left, then a budget covering 7.
Issue 17: `promoted` (tests/bench/promoted.py), the search scenario's searches with 200 of the companions
promoted (Sorotan bought and paid through products.services, picked among those searches' results), measured
right after `search` in each mode and compared with it (ratios to the trivial page, queries per request);
the promotions are deleted right after, so plain search never sees them.
Issue 18: `analytics` (tests/bench/analytics.py), two years of activity seeded once (--analytics-bookings
1,000,000 bookings over 730 days, --analytics-views 10,000,000 profile views in products.DailyStat, searches in
analytics.SearchStat), then the nightly rollup of one day and a full recompute of the 730 days (seconds and
peak memory, each in a fresh process; extrapolated from a --analytics-slice-days slice, and said so, when the
slice predicts more than --analytics-full-budget seconds), and the staff dashboard (/admin/analytics/, default
range and two years) p50/p95 as ratios to the trivial page of the same server, with its queries per request.

Prints figures; never fails on them. Exits non-zero only when the benchmark itself broke: the server did not start,
a request failed, an existing route answered something other than 200 (for the webhook: other than 200, its rate
limiter's 429 or its "busy, retry" 503), the booking or payments check found wrong data, a WhatsApp delivery was
never sent or sent twice, the level job's second run changed something, the promo scenario found a booking,
redemption or code counter wrong (or an answer other than booked, "used up" or "busy, try again"), the analytics
seed or a rollup run went wrong (or left a day without rollup rows) or a dashboard page came without its figures,
or a page scenario measured pages without their content (a profile or slot picker not showing 14 days, or mostly no
free time; a reviewed profile not showing its first 10 reviews; best rated results out of order; a promoted search
page with more than 2 "Promoted" labels, or none on every page; checked on every measured page).

    python -m tests.bench.run [--requests 400] [--concurrency 8] [--workers 2] [--scenarios trivial,search]
    python -m tests.bench.run --scenarios trivial,search,profile,slots,terms_in --runs 3 \
        [--page-cache all|cold|off|warm|both]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kompanion_bench_100k \
        python -m tests.bench.run --companions 100000 --scenarios trivial,search,profile,slots,terms_in --runs 3
    python -m tests.bench.run --scenarios payments [--notifications 10000]
    python -m tests.bench.run --scenarios notifications [--whatsapp-messages 5000] [--whatsapp-concurrency 4]
    python -m tests.bench.run --scenarios contention [--hold-seconds 10] [--lock-timeout-ms 300] [--threads 4]
    python -m tests.bench.run --scenarios trivial,search,rated,rated_city,profile,reviewed,levels --runs 3 \
        [--bookings 1000000 --reviews 300000] [--levels-tracemalloc] [--levels-explain]
    python -m tests.bench.run --scenarios chat [--runs 3] [--chat-seconds 25] [--chat-connections 64] [--chat-explain]
    python -m tests.bench.run --scenarios trivial,promo [--promo-requests 5] [--lock-timeout-ms 300]
    python -m tests.bench.run --scenarios trivial,search,promoted [--page-cache all|cold|both] [--runs 3]
    python -m tests.bench.run --scenarios analytics [--analytics-bookings 1000000 --analytics-views 10000000] \
        [--analytics-slice-days 60 --analytics-full-budget 600]

Every page figure is also given as a ratio to the trivial page measured in the same run and mode (the
machine's load and speed cancel out): after each run, and in one summary table printed at the very end
(medians over the runs), against issue 12's targets. Queries per request are given as they are.

The contention and promo scenarios (tests/bench/contention.py, promo.py) need no 20,000-companion seed:
run alone (or together), they only create and migrate the bench database and make small worlds of their own.
"""

import argparse
import http.client
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from tests.bench import analytics, history, promoted, seed
from tests.bench.load import HEADERS, Result, percentile, run_load

BASE_DIR = Path(__file__).resolve().parent.parent.parent
MODES = ("cold", "off", "warm")
MODE_SETS = {"all": list(MODES), "both": ["off", "warm"]}
MODE_LABELS = {
    "cold": "nothing cached",
    "off": "rendered-page cache off, fragments cached",
    "warm": "rendered-page cache warm",
}
# Issue 12, as ratios to the trivial page of the same run: (mode, scenario) -> (figure, bound, "min"/"max").
TARGETS = {
    ("off", "search"): [("rps", 0.3, "min"), ("server_p95", 5.0, "max")],
    ("off", "profile"): [("rps", 0.3, "min")],
    ("off", "slots"): [("rps", 0.3, "min")],
    ("warm", "search"): [("rps", 0.8, "min")],
    # Issue 17: search with promoted companions is the same page, held to the same targets.
    ("off", "promoted"): [("rps", 0.3, "min"), ("server_p95", 5.0, "max")],
    ("warm", "promoted"): [("rps", 0.8, "min")],
    ("warm", "profile"): [("rps", 0.8, "min")],
}
MAX_QUERIES = 8  # per request on every page, however much data (issue 12)
SLOT_TIME = re.compile(rb'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d')  # a start time, not a bare date
DAY_SECTION = re.compile(rb'id="day-(\d{4}-\d\d-\d\d)"')
PROFILE_LINK = re.compile(rb'href="/c/([\w-]+)/"')
CARD_RATING = re.compile(
    r'data-rating><span class="font-semibold"><span aria-hidden="true">★</span> (\d[.,]\d)'.encode()
)
PUBLIC_REVIEW = b"data-public-review"
REVIEWS_SHOWN = 10  # the profile's first page of reviews (companions.views.PROFILE_REVIEWS_SHOWN)
# Scenarios that need the booking history with reviews (tests/bench/history.py): run.py seeds it for them.
HISTORY_SCENARIOS = {"rated", "rated_city", "reviewed", "levels"}
# Scenarios that build a small world of their own: run alone (or together), no 20,000-companion seed.
OWN_WORLD_SCENARIOS = {"contention", "promo"}


class BenchBroken(Exception):
    """The benchmark could not measure (as opposed to measuring something slow)."""


@dataclass
class Scenario:
    name: str
    route: str  # shown in the table and used to check that the URL exists
    make_paths: Callable[[random.Random, int], list[str]]
    inspect: Callable[[bytes], dict[str, int]] | None = None  # what each page carried (checked, printed)
    signed_in: bool = False  # sent with the bench customer's session cookie
    cleanup: Callable[[], object] | None = None  # undoes what make_paths set up (after the scenario, and first)


def _results(body: bytes) -> dict[str, int]:
    return {"results": len(set(PROFILE_LINK.findall(body)))}


def _free_times(body: bytes) -> dict[str, int]:
    return {"days": len(set(DAY_SECTION.findall(body))), "times": len(SLOT_TIME.findall(body))}


def _rated_results(body: bytes) -> dict[str, int]:
    """Results, how many show a rating, and whether the shown ratings never rise down the page (1) or do (0):
    the order "best rated" promises (a card without a rating shown, under 3 reviews, may sit anywhere)."""
    shown = [float(value.replace(b",", b".")) for value in CARD_RATING.findall(body)]
    descending = all(earlier >= later for earlier, later in zip(shown, shown[1:], strict=False))
    return {**_results(body), "rated": len(shown), "descending": int(descending)}


def _reviewed_profile(body: bytes) -> dict[str, int]:
    return {**_free_times(body), "reviews": body.count(PUBLIC_REVIEW)}


def _search_paths(rng: random.Random, count: int, *, sort: str | None = None) -> list[str]:
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
        if sort:
            parameters["sort"] = sort
        queries.append(f"/companions/?{urlencode(parameters)}")
    return [queries[index % len(queries)] for index in range(count)]


def _rated_city_paths(rng: random.Random, count: int) -> list[str]:
    """Browsing a city's best rated companions: city only (weighted as the supply is), no date."""
    from companions.models import City

    cities = list(City.objects.order_by("position").values_list("slug", flat=True))
    weights = [seed.CITY_WEIGHTS.get(slug, 1) for slug in cities]
    return [
        f"/companions/?{urlencode({'city': city, 'sort': 'best_rated'})}"
        for city in rng.choices(cities, weights=weights, k=count)
    ]


def _reviewed_profile_paths(rng: random.Random, count: int) -> list[str]:
    """The profiles of the 200 listed companions with the most published reviews (the first page of reviews
    is the newest REVIEWS_SHOWN of hundreds)."""
    from companions.models import CompanionProfile

    top = list(
        CompanionProfile.objects.filter(is_listed=True)
        .order_by("-rating_count", "pk")
        .values_list("slug", "rating_count")[:200]
    )
    if not top or top[-1][1] < REVIEWS_SHOWN:
        raise BenchBroken("the bench database has too few reviewed companions (seed --bookings and --reviews)")
    print(
        f"bench: reviewed: the {len(top)} most reviewed profiles, {top[-1][1]:,}–{top[0][1]:,} published reviews each"
    )
    slugs = [slug for slug, _count in top]
    return [f"/c/{slugs[index % len(slugs)]}/" for index in range(count)]


def _promoted_paths(rng: random.Random, count: int) -> list[str]:
    """The search scenario's searches (the same rng seed, so the same 40), after making
    promoted.PROMOTED companions among their results promoted (tests/bench/promoted.py)."""
    paths = _search_paths(rng, count)
    made = promoted.promote(paths)
    if made < promoted.PROMOTED:
        raise BenchBroken(f"promoted: only {made} of {promoted.PROMOTED} companions could be promoted")
    return paths


def _profile_paths(rng: random.Random, count: int) -> list[str]:
    from companions.models import CompanionProfile

    slugs = list(CompanionProfile.objects.filter(is_listed=True).order_by("pk").values_list("slug", flat=True))
    if not slugs:
        raise BenchBroken("no listed profiles in the bench database")
    chosen = rng.sample(slugs, min(200, len(slugs)))
    return [f"/c/{chosen[index % len(chosen)]}/" for index in range(count)]


def _slot_paths(rng: random.Random, count: int) -> list[str]:
    """Booking step 1 as the profile's "Choose a time" button opens it: /c/<slug>/book/?hours=<min hours>,
    the 14-day strip of free start times for the shortest booking (the most times)."""
    from companions.models import CompanionProfile

    profiles = list(
        CompanionProfile.objects.filter(is_listed=True, is_paused=False).order_by("pk").values_list("slug", "min_hours")
    )
    if not profiles:
        raise BenchBroken("no bookable profiles in the bench database")
    chosen = rng.sample(profiles, min(200, len(profiles)))
    return [f"/c/{slug}/book/?hours={hours}" for slug, hours in (chosen[i % len(chosen)] for i in range(count))]


SCENARIOS = [
    Scenario("trivial", "/terms/", lambda rng, count: ["/terms/"] * count),
    Scenario("search", "/companions/", _search_paths, inspect=_results),
    Scenario("promoted", "/companions/", _promoted_paths, inspect=promoted.inspect, cleanup=promoted.remove),
    Scenario("profile", "/c/<slug>/", _profile_paths, inspect=_free_times),
    Scenario("slots", "/c/<slug>/book/", _slot_paths, inspect=_free_times, signed_in=True),
    # The trivial page signed in: the slot picker is a signed-in page, so the summary also gives its ratio
    # to this one (the frame a signed-in page pays for: session, user, menu), beside the visitor's.
    Scenario("terms_in", "/terms/", lambda rng, count: ["/terms/"] * count, signed_in=True),
    # Issue 13: search sorted best rated (the search scenario's searches, then a city's list alone), and the
    # profile of a companion with hundreds of reviews (the first page of them).
    Scenario("rated", "/companions/", lambda rng, count: _search_paths(rng, count, sort="best_rated"),
             inspect=_rated_results),
    Scenario("rated_city", "/companions/", _rated_city_paths, inspect=_rated_results),
    Scenario("reviewed", "/c/<slug>/", _reviewed_profile_paths, inspect=_reviewed_profile),
]  # fmt: skip
# Measured by their own modules (tests/bench/<name>.py).
OTHER_SCENARIOS = ["bookings", "payments", "notifications", "contention", "promo", "levels", "chat", "analytics"]


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
    fragment_cache_seconds: int | None = None,
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
        # Per-companion fragments (search cards) follow the page cache unless told otherwise.
        "COMPANION_FRAGMENT_CACHE_SECONDS": str(
            page_cache_seconds if fragment_cache_seconds is None else fragment_cache_seconds
        ),
        **(extra_environment or {}),
    }
    # A session of its own: a Ctrl-C reaches only this script, whose `finally` then stops gunicorn cleanly.
    # Django and gunicorn both log to the console; into the file with them, so the table stays readable.
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def delete_queue(broker: str, queue: str, *, label: str = "payments") -> None:
    """A scenario's unconsumed follow-up tasks (payments, levels): dropped, so nothing runs them later."""
    import redis

    client = redis.Redis.from_url(broker)
    removed = client.llen(queue)
    client.delete(queue)
    print(f"bench: [{label}] {removed:,} enqueued follow-up tasks dropped from {queue}")


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
    contents = [sample.content for sample in result.samples if sample.content is not None]
    content = {
        key: (min(values), statistics.median(values), max(values))
        for key in (contents[0] if contents else {})
        for values in [[content[key] for content in contents]]
    }
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
        "content": content,  # key -> (min, median, max) over the measured pages
        "queries_by_path": {  # path -> the query counts its requests made (compared between scenarios)
            path: sorted({sample.queries for sample in result.samples if sample.path == path})
            for path in dict.fromkeys(sample.path for sample in result.samples if sample.queries is not None)
        },
    }


def describe_content(content: dict) -> str:
    return ", ".join(
        f"{key} {low:g}" if low == high else f"{key} {low:g}–{high:g} (median {middle:g})"
        for key, (low, middle, high) in content.items()
    )


def print_table(rows: list[dict], missing: list[Scenario]) -> None:
    trivial = next((row for row in rows if row["scenario"] == "trivial"), None)
    header = (
        f"{'scenario':<10} {'requests':>8} {'conc':>4} {'rps':>7} {'rps×':>6} {'srv p50':>8} {'srv p95':>8} "
        f"{'cli p50':>8} {'cli p95':>8} {'queries':>9} {'non-200':>7}  what the pages carried"
    )
    print()
    print(
        "times in ms; srv = Server-Timing measured inside Django, cli = seen by the client (includes queueing); "
        "rps× = requests per second as a ratio to the trivial page's"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        queries = "-" if row["queries_min"] is None else f"{row['queries_min']}–{row['queries_max']}"
        rps_ratio = f"{row['rps'] / trivial['rps']:.3f}" if trivial and trivial["rps"] else "-"
        print(
            f"{row['scenario']:<10} {row['requests']:>8} {row['concurrency']:>4} {row['rps']:>7.1f} {rps_ratio:>6} "
            f"{row['server_p50']:>8.1f} {row['server_p95']:>8.1f} {row['client_p50']:>8.1f} "
            f"{row['client_p95']:>8.1f} {queries:>9} {row['non_200']:>7}  {describe_content(row['content'])}"
        )
    for scenario in missing:
        print(f"{scenario.name:<10} route not available yet ({scenario.route})")


def ratios(row: dict, trivial: dict) -> dict[str, float]:
    """Every figure of `row` as a ratio to the trivial page of the same run and mode."""
    return {
        figure: (row[figure] / trivial[figure]) if trivial[figure] else math.nan
        for figure in ("rps", "server_p50", "server_p95", "client_p95")
    }


def target_verdict(mode: str, name: str, figures: dict[str, float], queries_max: int | None) -> str:
    misses, checked = [], []
    for figure, bound, kind in TARGETS.get((mode, name), []):
        value = figures[figure]
        label = {"rps": "rps", "server_p95": "p95"}[figure]
        checked.append(f"{label} {'≥' if kind == 'min' else '≤'} {bound:g}×")
        if not (value >= bound if kind == "min" else value <= bound):
            misses.append(f"{label} {value:.2f}×")
    if name != "trivial" and queries_max is not None:
        checked.append(f"queries ≤ {MAX_QUERIES}")
        if queries_max > MAX_QUERIES:
            misses.append(f"{queries_max} queries")
    if not checked:
        return ""
    return ("MISSES " + ", ".join(misses) if misses else "meets") + f" ({'; '.join(checked)})"


def print_ratios(rows: list[dict], mode: str) -> None:
    trivial = next((row for row in rows if row["scenario"] == "trivial"), None)
    if not trivial:
        return
    print()
    for row in rows:
        if row["scenario"] == "trivial":
            continue
        figures = ratios(row, trivial)
        print(
            f"{row['scenario']}/trivial: rps {figures['rps']:.3f}x, server p50 {figures['server_p50']:.2f}x, "
            f"server p95 {figures['server_p95']:.2f}x, client p95 {figures['client_p95']:.2f}x; "
            f"{target_verdict(mode, row['scenario'], figures, row['queries_max'])}"
        )
        if row["queries_min"] != row["queries_max"]:
            print(
                f"{row['scenario']}: query count varies {row['queries_min']}–{row['queries_max']} between "
                f"requests; most on {row['most_queries_path']}"
            )


def print_summary(rows: list[dict], context: dict) -> None:
    """One table for the whole run: per mode and scenario, the median over the runs of each figure's
    ratio to the trivial page of the same run (and the median absolute figures beside them)."""
    if not rows:
        return
    runs = max(row["run"] for row in rows)
    load_now = os.getloadavg()
    print()
    print("=" * 119)
    print(
        f"SUMMARY: {context['companions']:,} companions, {context['history'][0]:,} history bookings, "
        f"{context['history'][1]:,} reviews ({context['database']}), code {context['code']}; "
        f"medians of {runs} run(s); load average at the start {context['load'][0]:.2f}, now {load_now[0]:.2f} "
        f"({os.cpu_count()} CPUs)"
    )
    print(
        "×: ratio to the trivial page of the same run and mode (rps: higher is better; times: lower is better); "
        "queries: per request, absolute (max over the requests)"
    )
    header = (
        f"{'cache':<5} {'scenario':<10} {'rps':>7} {'rps×':>6} {'p50 ms':>7} {'p50×':>6} {'p95 ms':>7} {'p95×':>6} "
        f"{'cli p95×':>8} {'queries':>7}  target (issue 12)"
    )
    print(header)
    print("-" * 119)
    for mode in MODES:
        in_mode = [row for row in rows if row["mode"] == mode]
        trivial_by_run = {row["run"]: row for row in in_mode if row["scenario"] == "trivial"}
        names = list(dict.fromkeys(row["scenario"] for row in in_mode))
        for name in names:
            mine = [row for row in in_mode if row["scenario"] == name and row["run"] in trivial_by_run]
            if not mine:
                continue
            per_run = [ratios(row, trivial_by_run[row["run"]]) for row in mine]
            figures = {key: statistics.median(ratio[key] for ratio in per_run) for key in per_run[0]}
            absolute = {key: statistics.median(row[key] for row in mine) for key in ("rps", "server_p50", "server_p95")}
            queries = max((row["queries_max"] for row in mine if row["queries_max"] is not None), default=None)
            print(
                f"{mode:<5} {name:<10} {absolute['rps']:>7.1f} {figures['rps']:>6.3f} {absolute['server_p50']:>7.1f} "
                f"{figures['server_p50']:>6.2f} {absolute['server_p95']:>7.1f} {figures['server_p95']:>6.2f} "
                f"{figures['client_p95']:>8.2f} {'-' if queries is None else queries:>7}  "
                f"{target_verdict(mode, name, figures, queries)}"
            )
        signed_in_reference = {row["run"]: row for row in in_mode if row["scenario"] == "terms_in"}
        slots = [row for row in in_mode if row["scenario"] == "slots" and row["run"] in signed_in_reference]
        if slots:
            per_run = [ratios(row, signed_in_reference[row["run"]]) for row in slots]
            print(
                f"{mode:<5} slots / trivial signed in: rps {statistics.median(r['rps'] for r in per_run):.3f}×, "
                f"p95 {statistics.median(r['server_p95'] for r in per_run):.2f}×"
            )
    print("=" * 119)


def check_content(row: dict, scenario: Scenario) -> str | None:
    """Why the measured pages cannot count (empty where they must carry data), or None."""
    content = row["content"]
    if scenario.inspect is None or not row["requests"]:
        return None
    if not content:
        return f"{scenario.name}: no page answered 200 with content"
    if "days" in content and content["days"][0] != 14:
        return f"{scenario.name}: pages show {content['days'][0]}–{content['days'][2]} days, not 14"
    if "times" in content and content["times"][1] == 0:
        return f"{scenario.name}: most pages show no free time"
    if "reviews" in content and content["reviews"][0] != REVIEWS_SHOWN:
        return (
            f"{scenario.name}: pages show {content['reviews'][0]}–{content['reviews'][2]} reviews, not {REVIEWS_SHOWN}"
        )
    if "descending" in content and content["descending"][0] != 1:
        return f"{scenario.name}: a page's shown ratings are not in best rated order"
    if "rated" in content and content["rated"][1] == 0:
        return f"{scenario.name}: most pages show no rated companion"
    if "promoted" in content and content["promoted"][2] > promoted.promoted_per_page():
        return f"{scenario.name}: a page shows {content['promoted'][2]} 'Promoted' labels"
    if "promoted" in content and content["promoted"][2] == 0:
        return f"{scenario.name}: no page shows a promoted companion"
    return None


def requests_for(name: str, arguments: argparse.Namespace) -> int:
    """The trivial page is the reference of every ratio, and fast: --requests of it take well under a
    second, where one busy moment of a shared machine moves its rps and p95. It gets
    --trivial-requests (default: 5 x --requests), so it is measured over a span like the other pages'."""
    if name in ("trivial", "terms_in"):
        return arguments.trivial_requests or 5 * arguments.requests
    return arguments.requests


def measure(arguments: argparse.Namespace, scenarios: list[Scenario], port: int, cookie: str) -> list[dict]:
    rows = []
    for scenario in scenarios:
        rng = random.Random(arguments.seed)
        wanted = requests_for(scenario.name, arguments)
        headers = {**HEADERS, "Cookie": cookie} if scenario.signed_in else None
        try:
            paths = scenario.make_paths(rng, arguments.warmup + wanted)
            warmup = run_load(
                port=port,
                paths=paths[: arguments.warmup],
                concurrency=arguments.concurrency,
                budget_s=30,
                headers=headers,
            )
            result = run_load(
                port=port,
                paths=paths[arguments.warmup :],
                concurrency=arguments.concurrency,
                budget_s=arguments.budget,
                headers=headers,
                inspect=scenario.inspect,
            )
        finally:
            if scenario.cleanup:
                scenario.cleanup()
        row = summarise(scenario.name, result, arguments.concurrency)
        rows.append(row)
        stopped_early = " (time budget reached)" if row["requests"] < wanted else ""
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
        problem = check_content(row, scenario)
        if problem:
            raise BenchBroken(problem)
    return rows


def describe_code() -> str:
    """The commit measured, and which files differ from it (a worktree measuring old code with the new
    harness says so)."""

    def git(*arguments: str) -> str:
        command = ["git", "-C", str(BASE_DIR), *arguments]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=10).stdout  # noqa: S603

    try:
        head = git("rev-parse", "--short", "HEAD").strip()
        changed = git("status", "--porcelain", "--untracked-files=no").split("\n")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    paths = sorted(line[3:] for line in changed if line.strip())
    if not paths:
        return head
    shown = ", ".join(paths[:8]) + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")
    return f"{head} + local changes to {shown}"


def describe_schema() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT app, max(name), count(*) FROM django_migrations "
            "WHERE app IN ('companions', 'bookings', 'accounts') GROUP BY app ORDER BY app"
        )
        latest = cursor.fetchall()
    return ", ".join(f"{app} {name}" for app, name, _ in latest)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    seed.add_arguments(parser)
    analytics.add_arguments(parser)
    parser.add_argument("--requests", type=int, default=400, help="measured requests per scenario")
    parser.add_argument(
        "--trivial-requests",
        type=int,
        default=None,
        help="measured requests of the trivial page, the reference of every ratio (default: 5 x --requests)",
    )
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests per scenario first")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads, each with one connection")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread, as in production)")
    parser.add_argument("--budget", type=float, default=60, help="seconds at most per scenario")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the request mix")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="page scenarios: measure each this many times per cache mode; chat: runs per server; the summaries "
        "give medians",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join([*(scenario.name for scenario in SCENARIOS), *OTHER_SCENARIOS]),
        help="comma-separated subset (slots: booking step 1, the free times of one companion, signed in; "
        "bookings: booking creation and the same-slot hammer, in-process; "
        "payments: signed Midtrans notifications posted to the webhook, then a correctness check; "
        "notifications: queued WhatsApp deliveries sent by a real Celery worker through a fake Twilio; "
        "contention: 10 booking POSTs while one companion's row is held, and unrelated pages meanwhile; "
        "rated, rated_city, reviewed: search sorted best rated, a city's best rated, a profile with hundreds of "
        "reviews; levels: the daily level job over the booking history, timed and its memory measured; these "
        "four seed the history of issue 13 unless --bookings says otherwise; chat: 500 conversations polled by "
        "both parties every 4 s and 50 messages a second, open loop, then polls a second on one worker; "
        "promo: booking requests by 20 customers at once without and with a shared promo code, and 50 at once "
        "against a code with 10 uses left and a budget for 7; "
        "promoted: the search scenario's searches with 200 companions promoted (Sorotan), right after search; "
        "analytics: two years of bookings and views, the nightly rollup of a day and of the two years, the "
        "dashboard page)",
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
        help="contention, promo: the server's LOCK_TIMEOUT_MS (default: the settings' own, i.e. the environment's)",
    )
    parser.add_argument(
        "--promo-requests",
        type=int,
        default=5,
        help="promo: booking requests each of the 20 concurrent customers sends, per phase (without, with the code)",
    )
    parser.add_argument(
        "--levels-tracemalloc",
        action="store_true",
        help="levels: also tracemalloc's peak of each run (Python allocations; makes the runs slower)",
    )
    parser.add_argument(
        "--levels-explain",
        action="store_true",
        help="levels: EXPLAIN (ANALYZE, BUFFERS) of the job's aggregate queries after its first run",
    )
    parser.add_argument("--chat-seconds", type=float, default=25, help="chat: length of each open-loop run")
    parser.add_argument(
        "--chat-poll-every", type=float, default=4.0, help="chat: seconds between a party's polls (the page's)"
    )
    parser.add_argument("--chat-sends", type=float, default=50, help="chat: messages sent a second (Poisson)")
    parser.add_argument(
        "--chat-connections", type=int, default=64, help="chat: the open loop's client connections (keep-alive)"
    )
    parser.add_argument(
        "--chat-conversations", type=int, default=500, help="chat: conversations (two parties each; seeded once)"
    )
    parser.add_argument(
        "--chat-explain",
        action="store_true",
        help="chat: EXPLAIN (ANALYZE, BUFFERS) of the SELECTs of a poll and a send in the longest conversation",
    )
    parser.add_argument(
        "--page-cache",
        choices=("all", "both", "cold", "off", "warm"),
        default="all",
        help="cold: nothing cached, every request renders everything from the database; off: the "
        "rendered-page cache off, per-companion fragments (search cards) cached as in production after a "
        "write; warm: the rendered-page cache filled by a warm-up over every distinct URL first; "
        "both: off and warm; all (default): cold, off and warm",
    )
    arguments = parser.parse_args()
    known = [scenario.name for scenario in SCENARIOS] + OTHER_SCENARIOS
    unknown = set(arguments.scenarios.split(",")) - set(known)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {', '.join(known)}")
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")
    if arguments.reviews and arguments.bookings is None and not set(arguments.scenarios.split(",")) & HISTORY_SCENARIOS:
        parser.error("--reviews needs --bookings (a review is of a completed booking)")
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
    # production, where workers send it), not into the measured request. The broker is always named
    # (BENCH_BROKER_URL, by default the bench's Redis); set it empty to run the follow-ups in-process.
    from django.conf import settings

    broker = settings.BENCH_BROKER_URL
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
            delete_queue(broker, queue)
    if not correct:
        print("\nbench: BROKEN: the payments benchmark failed (see above)", file=sys.stderr)
        print_log_tail(log_path)
        return 1
    return 0


def measure_pages(
    arguments: argparse.Namespace, available: list[Scenario], missing: list[Scenario], log_path: Path
) -> list[dict]:
    """The page scenarios, per cache mode: one gunicorn each, --runs rounds of every scenario (the trivial
    page first in each, so every round has its own reference). Rows carry their mode and run."""
    from django.conf import settings

    cookie = seed.customer_session_cookie() if any(scenario.signed_in for scenario in available) else ""
    modes = MODE_SETS.get(arguments.page_cache, [arguments.page_cache])
    for scenario in SCENARIOS:  # what a killed run may have left (promotions), before any page is measured
        if scenario.cleanup:
            scenario.cleanup()
    all_rows = []
    for mode in modes:
        port = free_port()
        if mode in ("off", "warm"):
            # Every distinct URL of the rotation once before measuring, so that all measured requests are
            # hits: of the rendered-page cache (warm), of the per-companion fragments (off).
            arguments.warmup = max(arguments.warmup, arguments.requests)
        label = MODE_LABELS[mode]
        print(
            f"\nbench: [{label}] gunicorn on 127.0.0.1:{port}, {arguments.workers} workers x {arguments.threads} "
            f"threads; {arguments.requests} requests per scenario ({requests_for('trivial', arguments)} of the "
            f"trivial page) at concurrency {arguments.concurrency}, "
            f"{arguments.runs} run(s) (server log: {log_path})"
        )
        server = start_server(
            port=port,
            workers=arguments.workers,
            threads=arguments.threads,
            log_path=log_path,
            page_cache_seconds=0 if mode in ("cold", "off") else settings.BENCH_WARM_PAGE_CACHE_SECONDS,
            fragment_cache_seconds=0 if mode == "cold" else settings.BENCH_WARM_PAGE_CACHE_SECONDS,
        )
        try:
            wait_until_healthy(server, port=port)
            for run in range(1, arguments.runs + 1):
                load = os.getloadavg()
                rows = measure(arguments, available, port, cookie)
                print(f"\n[{label}, run {run} of {arguments.runs}; load average {load[0]:.2f} at its start]")
                print_table(rows, missing)
                print_ratios(rows, mode)
                promoted.print_comparison(rows)
                all_rows += [{**row, "mode": mode, "run": run} for row in rows]
        finally:
            stop_server(server)
    return all_rows


def run_others(arguments: argparse.Namespace, wanted: set[str], log_path: Path, warmup: int, chat_figures: dict) -> int:
    """Bookings, payments, notifications, levels, contention, promo, chat and analytics, in that order; the first
    broken one ends the run (its exit status is returned). The chat's rows for the summary go into `chat_figures`."""
    from django.conf import settings

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
    if "levels" in wanted:
        from tests.bench import levels as level_bench

        if not level_bench.run(tracemalloc=arguments.levels_tracemalloc, explain=arguments.levels_explain):
            print("\nbench: BROKEN: the level job benchmark failed (see above)", file=sys.stderr)
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
    if "promo" in wanted:
        from tests.bench import promo as promo_bench

        measured = promo_bench.run(
            workers=arguments.workers,
            threads=arguments.threads,
            log_path=log_path,
            requests=arguments.promo_requests,
            lock_timeout_ms=arguments.lock_timeout_ms,
        )
        if not measured:
            print("\nbench: BROKEN: the promo benchmark failed (see above)", file=sys.stderr)
            return 1
    if "chat" in wanted:
        from tests.bench import chat as chat_bench

        measured, chat_figures["rows"], chat_figures["world"] = chat_bench.run(
            workers=arguments.workers,
            threads=arguments.threads,
            concurrency=arguments.concurrency,
            log_path=log_path,
            runs=arguments.runs,
            seconds=arguments.chat_seconds,
            poll_every=arguments.chat_poll_every,
            sends_per_second=arguments.chat_sends,
            connections=arguments.chat_connections,
            conversations=arguments.chat_conversations,
            closed_requests=requests_for("trivial", arguments),
            explain=arguments.chat_explain,
            seed_value=arguments.seed,
        )
        if not measured:
            print("\nbench: BROKEN: the chat benchmark failed (see above)", file=sys.stderr)
            return 1
    if "analytics" in wanted:
        if not analytics.run(arguments=arguments, log_path=log_path):
            print("\nbench: BROKEN: the analytics benchmark failed (see above)", file=sys.stderr)
            return 1
    return 0


def main() -> int:
    arguments = parse_arguments()
    # SIGTERM (e.g. a CI timeout) unwinds through `finally` like Ctrl-C, so gunicorn is always stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    seed.configure_django()
    from django.conf import settings

    wanted = set(arguments.scenarios.split(","))
    if wanted <= OWN_WORLD_SCENARIOS:  # they seed their own small sets: no 20,000 companions needed
        seed.ensure_database(recreate=arguments.reseed)
        seed.migrate()
    else:
        if wanted & HISTORY_SCENARIOS and arguments.bookings is None:  # issue 13's history, unless told
            arguments.bookings = history.DEFAULT_BOOKINGS
            arguments.reviews = history.DEFAULT_REVIEWS if arguments.reviews is None else arguments.reviews
        seed.ensure_seeded(
            companions=arguments.companions,
            reseed=arguments.reseed,
            bookings=arguments.bookings,
            reviews=arguments.reviews or 0,
        )
    collect_static()
    history_held = history.history_counts()
    context = {
        "companions": arguments.companions,
        "history": history_held,
        "database": settings.DATABASES["default"]["NAME"],
        "code": describe_code(),
        "load": os.getloadavg(),
    }
    print(
        f"bench: database {context['database']} (schema: {describe_schema()}); code {context['code']}; "
        f"load average {' '.join(f'{value:.2f}' for value in context['load'])} ({os.cpu_count()} CPUs)"
    )

    chosen = [scenario for scenario in SCENARIOS if scenario.name in wanted]
    available = [scenario for scenario in chosen if route_exists(scenario.route)]
    missing = [scenario for scenario in chosen if scenario not in available]

    Path(settings.BENCH_ROOT).mkdir(parents=True, exist_ok=True)
    log_path = Path(settings.BENCH_ROOT) / "gunicorn.log"
    log_path.write_text("")  # this run's lines only
    warmup = arguments.warmup  # the warm mode raises it for the page scenarios
    rows: list[dict] = []
    chat_figures: dict = {}
    status = 0
    try:
        if available:  # e.g. --scenarios payments: no page to measure, no server to start for it
            rows = measure_pages(arguments, available, missing, log_path)
        status = run_others(arguments, wanted, log_path, warmup, chat_figures)
    except BenchBroken as error:
        print(f"bench: BROKEN: {error}", file=sys.stderr)
        print_log_tail(log_path)
        status = 2
    # At the very end, whatever came after the pages, so that the table is the last thing on screen.
    print_summary(rows, context)
    if chat_figures.get("rows"):
        from tests.bench import chat as chat_bench

        chat_bench.print_summary(chat_figures["rows"], chat_figures["world"], context)
    broken = sorted({row["scenario"] for row in rows if row["non_200"] or not row["requests"]})
    if broken and not status:
        print(f"\nbench: BROKEN: failed requests in {', '.join(broken)} (see above and {log_path})", file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
