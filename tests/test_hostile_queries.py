"""Every page answers hostile query strings with a 2xx, 3xx or 4xx, never a 500 (issue 10).

The walk takes every URL the resolver knows, through the permission matrix (tests/test_permission_matrix.py,
which fails for a URL without a row, so no page escapes this walk either): each page is fetched by each
kind of visitor who may open it (the matrix says "200"), with path parameters filled by real objects,
and with query strings that carry out-of-range numbers, wrong types, unknown choices, reversed ranges,
huge page numbers, NUL bytes, broken percent-encoding, very long values and repeated keys in every
parameter a page reads. The Django admin is walked too: its index and every changelist, as staff.
"""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from tests.test_permission_matrix import MATRIX, ROLES, all_url_patterns, clients, is_admin, objects  # noqa: F401

pytestmark = pytest.mark.django_db

# Every query parameter a page of the project reads (grep request.GET), and a few common ones.
PARAMETERS = (
    "page", "date", "time", "hours", "start", "previous_start", "week", "tab", "sort", "city", "activity",
    "language", "gender", "price_min", "price_max", "age_min", "age_max", "q", "role", "edit", "shown",
    "next", "book", "date_from", "date_to", "from", "to", "status", "kind", "amount", "o", "p", "e",
)  # fmt: skip


def every_parameter(value: str) -> str:
    return "&".join(f"{name}={value}" for name in PARAMETERS)


def hostile_queries() -> dict[str, str]:
    today = timezone.localdate()
    later, earlier = (today + timedelta(days=30)).isoformat(), (today - timedelta(days=30)).isoformat()
    return {
        "out of range": every_parameter("13"),
        "negative": every_parameter("-1"),
        "zero": every_parameter("0"),
        "huge number": every_parameter("9" * 40),
        "float": every_parameter("1.5e308"),
        "wrong type": every_parameter("abc"),
        "unknown choice": every_parameter("klingon"),
        "impossible date": every_parameter("2026-02-30"),
        "far date": every_parameter("9999-12-31T23:59:59%2B14:00"),
        "year one": every_parameter("0001-01-01"),
        "NUL byte": every_parameter("%00"),
        "control and bidi": every_parameter("%1B%5B31m%E2%80%AE%E2%80%8B%7F"),
        "broken percent-encoding": every_parameter("%ZZ%C0%AF%FF"),
        "very long": every_parameter("x" * 3000),
        "markup": every_parameter(quote("<script>alert(1)</script>'\"")),
        "array syntax": "&".join(f"{name}[]=1&{name}[x]=2" for name in PARAMETERS),
        "repeated keys": "&".join(f"{name}=1&{name}=abc&{name}=" for name in PARAMETERS),
        "huge page": "page=999999999999&p=999999999999",
        "reversed ranges": (
            f"date_from={later}&date_to={earlier}&from={later}&to={earlier}"
            "&price_min=900000&price_max=1&age_min=99&age_max=18"
        ),
        "date with bad hours": f"date={later}&hours=13&time=25:99",
        "empty values": every_parameter(""),
    }


def _urls(objects) -> list[tuple[str, str, str]]:  # noqa: F811
    """(url, role, matrix name) for each page a role may open."""
    names = {name for name, route in all_url_patterns() if not is_admin(name, route)}
    assert names <= set(MATRIX), "a URL without a permission-matrix row: add it there first"
    urls = []
    for name in sorted(names):
        row = MATRIX[name]
        kwargs = row.kwargs(objects) if callable(row.kwargs) else row.kwargs
        url = reverse(name, kwargs=kwargs)
        for role in ROLES:
            if row.expected(role) == "200":
                urls.append((url, role, name))
    return urls


def _admin_urls() -> list[str]:
    return [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]


def _fetch(client, url: str, query: str) -> int:
    client.raise_request_exception = False  # an exception becomes the 500 a visitor would get
    return client.get(f"{url}?{query}").status_code


def test_no_page_answers_a_hostile_query_with_a_500(clients, objects):  # noqa: F811
    pages = _urls(objects)
    assert len(pages) >= 25  # the walk really walks
    failures = []
    for url, role, name in pages:
        for label, query in hostile_queries().items():
            status = _fetch(clients[role], url, query)
            if status >= 500:
                failures.append(f"{status} {name} as {role}: GET {url}?{query[:120]} ({label})")
    assert not failures, f"{len(failures)} hostile queries answered 5xx:\n" + "\n".join(failures)


def test_no_admin_page_answers_a_hostile_query_with_a_500(clients):  # noqa: F811
    failures = []
    for url in _admin_urls():
        for label, query in hostile_queries().items():
            status = _fetch(clients["staff"], url, query)
            if status >= 500:
                failures.append(f"{status} as staff: GET {url}?{query[:120]} ({label})")
    assert not failures, f"{len(failures)} hostile queries answered 5xx:\n" + "\n".join(failures)
