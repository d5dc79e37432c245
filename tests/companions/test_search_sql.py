"""The search page's SQL: a constant number of queries however many companions match, and the
weekly-hours check probed per candidate (never a hash over every companion's hours)."""

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companions import selectors
from companions.models import City, TimeOff
from companions.selectors import SearchQuery
from tests.companions.helpers import listed_companion

pytestmark = pytest.mark.django_db

SEARCH = "companions:search"
JAKARTA = ZoneInfo("Asia/Jakarta")


def next_week_day() -> datetime:
    """A Wednesday 10.00 in Jakarta, 7 to 13 days ahead: inside every test companion's horizon."""
    today = timezone.now().astimezone(JAKARTA).date()
    day = today + timedelta(days=7 + (2 - today.weekday()) % 7)
    return datetime.combine(day, datetime.min.time(), tzinfo=JAKARTA).replace(hour=10)


def bench_like_params(moment: datetime, **extra) -> dict:
    """What the benchmark searches: city, activity, date, time and hours."""
    return {
        "city": "jakarta",
        "activity": "hangout",
        "date": moment.date().isoformat(),
        "time": moment.strftime("%H:%M"),
        "hours": 2,
        **extra,
    }


def add_companions(count: int, *, prefix: str, moment: datetime) -> None:
    """`count` companions free at `moment` (Wednesday day hours, or Tuesday evening hours that run
    past midnight), each with more activities, languages and hours than the page shows, and some
    with time off elsewhere; plus as many who are not free then (other weekday, other city)."""
    wednesday, tuesday = moment.weekday(), (moment.weekday() - 1) % 7
    for index in range(count):
        ranges = [(wednesday, 8 * 60, 600), (5, 9 * 60, 300)] if index % 2 else [(tuesday, 20 * 60, 18 * 60)]
        profile = listed_companion(
            name=f"{prefix}{index:03d}",
            ranges=ranges,
            activities=("hangout", "culinary", "sports"),
            languages=("id", "en"),
        )
        if index % 3 == 0:
            later = moment.date() + timedelta(days=2)
            TimeOff.objects.create(profile=profile, start_date=later, end_date=later + timedelta(days=2))
        listed_companion(name=f"{prefix}busy{index:03d}", ranges=[(6, 10 * 60, 240)])
        listed_companion(name=f"{prefix}far{index:03d}", city="bandung", ranges=[(wednesday, 8 * 60, 600)])


def page_queries(client, params: dict) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(SEARCH), params)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("partial", [False, True], ids=["page", "htmx"])
def test_search_queries_stay_constant_as_companions_and_results_grow(client, partial):
    moment = next_week_day()
    headers = {"HTTP_HX_REQUEST": "true"} if partial else {}
    params = bench_like_params(moment)

    add_companions(2, prefix="a", moment=moment)
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse(SEARCH), params, **headers)
    assert len(response.context["cards"]) == 2

    add_companions(40, prefix="b", moment=moment)  # 42 free: more than a page, on two pages
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(SEARCH), params, **headers)
    assert len(response.context["cards"]) == 24 and response.context["result_count_more"]
    with CaptureQueriesContext(connection) as second_page:
        response = client.get(reverse(SEARCH), {**params, "page": 2}, **headers)
    assert len(response.context["cards"]) == 18 and not response.context["result_count_more"]

    assert len(few) == len(many) == len(second_page), [query["sql"][:80] for query in many.captured_queries]
    assert len(many) <= 8


def test_a_page_past_the_end_costs_one_count_whatever_the_results(client):
    """An old link (?page=9) finds no rows, counts once to find the last page and reads that page:
    two queries more than a normal page (the empty read has nothing to prefetch), constant."""
    moment = next_week_day()
    add_companions(2, prefix="a", moment=moment)
    few, response = page_queries(client, bench_like_params(moment, page=9))
    assert response.context["page_obj"].number == 1
    add_companions(30, prefix="b", moment=moment)
    many, response = page_queries(client, bench_like_params(moment, page=9))
    assert response.context["page_obj"].number == 2 and len(response.context["cards"]) == 8
    assert few == many <= 8 + 2


def test_date_only_and_unfiltered_searches_stay_constant(client):
    moment = next_week_day()
    add_companions(2, prefix="a", moment=moment)
    small = [
        page_queries(client, params)[0]
        for params in ({"date": moment.date().isoformat(), "hours": 2}, {}, {"activity": "hangout"})
    ]
    add_companions(30, prefix="b", moment=moment)
    large = [
        page_queries(client, params)[0]
        for params in ({"date": moment.date().isoformat(), "hours": 2}, {}, {"activity": "hangout"})
    ]
    assert small == large
    assert max(large) <= 8


def hashed_relations(plan: dict) -> set[str]:
    """Tables read by subplans that the plan runs "hashed" (once, over the whole table, instead of per
    outer row). EXPLAIN (FORMAT JSON) names each subplan node; its parent's filters say "hashed"."""
    nodes, texts = [], []

    def walk(node: dict) -> None:
        nodes.append(node)
        texts.extend(str(value) for key, value in node.items() if key != "Plans")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    hashed = set(re.findall(r"hashed (SubPlan \d+)", " ".join(texts)))
    relations: set[str] = set()

    def tables(node: dict) -> None:
        if "Relation Name" in node:
            relations.add(node["Relation Name"])
        for child in node.get("Plans", []):
            tables(child)

    for node in nodes:
        if node.get("Subplan Name") in hashed:
            tables(node)
    return relations


@pytest.mark.parametrize("with_city", [True, False], ids=["city", "all-zones"])
def test_weekly_hours_are_checked_per_candidate_not_hashed(with_city):
    """The cost of the old plan at 100,000 companions: PostgreSQL may run an EXISTS whose only link to
    the outer row is `profile_id = id` "hashed", reading every companion's hours for that weekday to
    fill a page of 24. The filter keeps an outer column in each hours subquery, so that plan cannot be
    chosen, whatever the statistics say. Checked on the plan's shape, not on time."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan")
    moment = next_week_day()
    add_companions(12, prefix="a", moment=moment)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE companions_weeklyhours")
        cursor.execute("ANALYZE companions_companionprofile")
    query = SearchQuery(
        city=City.objects.get(slug="jakarta") if with_city else None,
        day=moment.date(),
        start_time=moment.time(),
        hours=2,
        viewer_time_zone="Asia/Jakarta",
    )
    queryset = selectors.search_companions(query)[:25]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Make every per-row probe look expensive, so that a hashed plan wins wherever one is possible.
        cursor.execute("SET LOCAL random_page_cost = 1000")
        cursor.execute("SET LOCAL cpu_operator_cost = 10")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert "companions_weeklyhours" not in hashed_relations(plan[0]["Plan"])
    assert len(queryset) == (12 if with_city else 24)  # without a city, the Bandung ones too
