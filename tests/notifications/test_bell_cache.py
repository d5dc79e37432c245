"""The bell's count kept in the cache per user (fragment cache on): no COUNT on a signed-in page while it
stands, and a new or read notification shows at once (the user's unread version moves after commit)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from tests.bookings.helpers import make_companion, new_customer
from tests.notifications.test_pages import booking_request_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fragments_on(settings):
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600


def page(client, url=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url or reverse("home"))
    assert response.status_code == 200
    return response.context["unread_notifications"], len(captured)


def test_the_count_is_asked_once_then_kept(client):
    client.force_login(new_customer())
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("terms"))
    with CaptureQueriesContext(connection) as again:
        client.get(reverse("terms"))
    assert any("COUNT" in query["sql"] for query in first.captured_queries)
    assert not any("COUNT" in query["sql"] for query in again.captured_queries)
    assert len(again) == 2  # the session and the user


def test_a_new_notification_and_reading_it_show_at_once(client, django_capture_on_commit_callbacks):
    profile = make_companion()
    client.force_login(profile.user)
    assert page(client)[0] == 0
    with django_capture_on_commit_callbacks(execute=True):
        booking_request_for(profile, new_customer())
    assert page(client)[0] == 1
    notification = Notification.objects.get(recipient=profile.user, event="booking_requested")
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("notifications:open", args=[notification.pk]))
    assert page(client)[0] == 0
    with django_capture_on_commit_callbacks(execute=True):
        booking_request_for(profile, new_customer())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:mark_read"))
    assert page(client)[0] == 0


def test_the_count_is_asked_of_the_database_with_the_fragment_cache_off(client, settings):
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 0
    profile = make_companion()
    client.force_login(profile.user)
    page(client)
    booking_request_for(profile, new_customer())  # no commit callbacks run here: nothing is cached
    assert page(client)[0] == 1
