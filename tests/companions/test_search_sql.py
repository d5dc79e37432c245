"""The search page's SQL: a constant number of queries however many companions match, and every
subquery probed per candidate (never a hash over every companion's hours, never a join to plan)."""

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


def plan_nodes(plan: dict) -> list[dict]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(plan_nodes(child))
    return nodes


@pytest.mark.parametrize("with_city", [True, False], ids=["city", "all-zones"])
def test_subqueries_are_probed_per_candidate_not_hashed_nor_joined(with_city):
    """The cost of the old plans at 100,000 companions: PostgreSQL may run an EXISTS whose only link to
    the outer row is `profile_id = id` "hashed", reading every companion's hours for that weekday to
    fill a page of 24; or pull it up into a semi-join, and then spend most of each request's planning
    on the order of five joins. Every subquery is a `selectors.Probe`, so neither plan can be chosen,
    whatever the statistics say; and a chosen city's zone needs no join to the cities. Checked on the
    plan's shape, not on time."""
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
    # The page's own read: ids and slugs (the cards come from their cache or a second query).
    queryset = selectors.search_companions(query).select_related(None).prefetch_related(None)
    queryset = queryset.values_list("pk", "slug")[:25]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Make every per-row probe look expensive, so that a hashed plan wins wherever one is possible.
        cursor.execute("SET LOCAL random_page_cost = 1000")
        cursor.execute("SET LOCAL cpu_operator_cost = 10")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert "companions_weeklyhours" not in hashed_relations(plan[0]["Plan"])
    nodes = plan_nodes(plan[0]["Plan"])
    assert not [node["Join Type"] for node in nodes if node.get("Join Type") in ("Semi", "Anti")]
    relations = {node["Relation Name"] for node in nodes if "Relation Name" in node}
    assert {"companions_weeklyhours", "companions_timeoff", "bookings_booking"} <= relations
    assert ("companions_city" in relations) is not with_city  # several zones tell companions apart by city
    assert len(queryset) == (12 if with_city else 24)  # without a city, the Bandung ones too
