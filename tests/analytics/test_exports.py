"""The dashboard's CSV downloads and the finance statement page: the same permission as the dashboard, bad
input as a message, small cells kept as "< 5", and a city named like a formula never becomes one."""

import pytest
from django.urls import reverse

from analytics.models import DailyRollup
from companions.models import Activity, City
from tests.analytics.test_dashboard import staff_user, yesterday

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("analytics:dashboard")
FINANCE = reverse("analytics:finance")


@pytest.fixture
def viewer_client(client, viewer):
    client.cookies["kompanion_language"] = "en"
    client.force_login(viewer)
    return client


@pytest.fixture
def viewer(db):
    from django.contrib.auth.models import Permission

    user = staff_user()
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard", content_type__app_label="analytics"))
    return user


def test_a_chart_downloads_as_csv_with_small_cells_kept_small_and_no_formula(viewer_client, reference_data):
    city = City.objects.create(name="=HYPERLINK(1)", slug="formula-city")
    activity = Activity.objects.first()
    DailyRollup.objects.create(
        day=yesterday(),
        city=city,
        activity=activity,
        requests=40,
        accepted=3,
        paid=3,
        completed=2,
        computed_at="2026-12-01T00:00:00Z",
    )
    answer = viewer_client.get(DASHBOARD, {"city": "formula-city", "export": "funnel"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    text = answer.content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert ",40," in text and "< 5" in text  # the 40 requests; the 3 accepted are a small cell


def test_the_finance_statement_page_and_its_csv(viewer_client):
    page = viewer_client.get(FINANCE, {"month": "2026-11"})
    assert page.status_code == 200 and b'data-testid="finance-table"' in page.content
    assert b'data-testid="matches"' in page.content
    csv = viewer_client.get(FINANCE, {"month": "2026-11", "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and "2026-11" in csv.content.decode("utf-8-sig")
    for bad in ("2026-13", "nope", "2999-01", "1999-05"):
        answer = viewer_client.get(FINANCE, {"month": bad})
        assert answer.status_code == 200 and b'data-testid="finance-message"' in answer.content


def test_staff_without_the_permission_get_403(client, db):
    client.force_login(staff_user())
    assert client.get(FINANCE).status_code == 403
    assert client.get(DASHBOARD, {"export": "daily"}).status_code == 403
