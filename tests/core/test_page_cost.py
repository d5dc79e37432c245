"""What every page pays for before its own work (issue 12): the trivial page (/terms/) asks the database
nothing for a visitor, and only the session, the user and the bell's unread count when signed in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CompanionFactory, CustomerFactory


def queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured]


@pytest.mark.django_db
def test_the_trivial_page_asks_nothing_of_a_visitor(client):
    assert queries(client, reverse("terms")) == []


@pytest.mark.django_db
@pytest.mark.parametrize("factory", [CustomerFactory, CompanionFactory])
def test_the_trivial_page_signed_in_costs_three_queries(client, factory):
    client.force_login(factory())
    client.get(reverse("terms"))  # the first request may refresh the session's idle expiry
    found = queries(client, reverse("terms"))
    assert len(found) <= 3
    assert sum("notifications_notification" in sql for sql in found) == 1
