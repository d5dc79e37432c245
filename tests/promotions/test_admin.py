"""Promotions in the admin (issue 16): a code created with its rules through the admin form; the list and
the page show its cost (consumed discounts, in Rupiah), the first bookings it brought, uses and budget
left, and its redemptions; pausing and resuming ask for a reason, recorded in the admin's history."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from bookings import services as booking_services
from payments.demo import demo_pay
from promotions import services
from promotions.models import Promotion, Redemption
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.promotions.helpers import promotion

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:promotions_promotion_changelist"


@pytest.fixture
def staff_client(client, staff):
    client.cookies["kompanion_language"] = "en"
    client.force_login(staff)
    return client


def paid_with(code: str, customer=None, start=START):
    """A 2 h booking (subtotal Rp 300.000) requested with `code`, accepted and paid: its discount consumed."""
    profile = make_companion()
    booking = request(customer or new_customer(), profile, start, 2, promo_code=code)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    demo_pay(booking, now=NOW, method="pay_qris")
    booking.refresh_from_db()
    return booking


def test_staff_create_a_code_with_its_rules_through_the_admin(staff_client):
    response = staff_client.post(
        reverse("admin:promotions_promotion_add"),
        {
            "code": "  gajian20 ",
            "name": "Payday",
            "kind": "percent",
            "basis_points": "2000",
            "amount": "40000",
            "minimum_subtotal": "200000",
            "uses_per_customer": "1",
            "total_uses": "100",
            "budget": "2000000",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Promotion.objects.get()
    assert (created.code, created.basis_points, created.amount, created.minimum_subtotal) == (
        "gajian20",
        2000,
        40_000,
        200_000,
    )
    assert created.paused is False


def test_a_percentage_code_without_a_percentage_is_refused_in_the_form(staff_client):
    response = staff_client.post(
        reverse("admin:promotions_promotion_add"),
        {
            "code": "ZERO",
            "kind": "percent",
            "basis_points": "0",
            "amount": "0",
            "minimum_subtotal": "0",
            "uses_per_customer": "1",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "needs its percentage" in response.content.decode()
    assert not Promotion.objects.exists()


def test_the_list_and_page_show_cost_first_bookings_uses_and_budget_left(staff_client):
    code = promotion(total_uses=10, budget=1_000_000, uses_per_customer=2)
    first = paid_with("HEMAT15")  # a new customer's first booking: Rp 45.000 off, consumed
    regular = new_customer()
    paid_with("HEMAT15", customer=regular)
    paid_with(
        "HEMAT15", customer=regular, start=START + timedelta(hours=4)
    )  # their second paid booking: not a first booking
    request(new_customer(), make_companion(), START, 2, promo_code="HEMAT15")  # reserved only: no cost yet
    assert Redemption.objects.filter(status=Redemption.Status.CONSUMED).count() == 3
    assert first.discount == 45_000

    listing = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "Rp\xa0135,000" in listing  # cost: three paid discounts
    assert "4 / 10" in listing  # uses taken (reserved or consumed) of the total
    assert "Rp\xa0820,000" in listing  # budget left: 1.000.000 − 4 × 45.000
    assert "15% up to Rp\xa050,000" in listing
    page = staff_client.get(reverse("admin:promotions_promotion_change", args=[code.pk])).content.decode()
    assert "Rp\xa0135,000" in page and first.reference in page
    from promotions.admin import first_bookings

    assert first_bookings(code) == 2  # the first customer's, and the regular's first (not their second)
    redemptions = staff_client.get(reverse("admin:promotions_redemption_changelist")).content.decode()
    assert first.reference in redemptions and "Rp\xa045,000" in redemptions


def test_pausing_asks_a_reason_and_records_it(staff_client, staff):
    code = promotion()
    url = reverse(CHANGELIST)
    asked = staff_client.post(url, {"action": "pause", "_selected_action": [code.pk]})
    assert asked.status_code == 200 and "Reason" in asked.content.decode()
    code.refresh_from_db()
    assert code.paused is False

    too_short = staff_client.post(url, {"action": "pause", "_selected_action": [code.pk], "apply": "1", "reason": "x"})
    assert too_short.status_code == 200
    code.refresh_from_db()
    assert code.paused is False

    reason = "Shared on a coupon forum, pausing until Monday"
    done = staff_client.post(url, {"action": "pause", "_selected_action": [code.pk], "apply": "1", "reason": reason})
    assert done.status_code == 302
    code.refresh_from_db()
    assert code.paused is True
    entry = LogEntry.objects.get(object_id=str(code.pk))
    assert entry.user == staff and entry.change_message == f"Paused: {reason}"
    found = services.quote(
        customer=new_customer(), profile=make_companion(), activity=None, start=START, hours=2, code="HEMAT15", now=NOW
    )
    assert found.reason == "This code is paused right now." and found.discount == 0

    staff_client.post(
        url, {"action": "resume", "_selected_action": [code.pk], "apply": "1", "reason": "Forum post removed"}
    )
    code.refresh_from_db()
    assert code.paused is False
    assert LogEntry.objects.filter(object_id=str(code.pk)).count() == 2


def test_the_paused_flag_is_not_editable_in_the_form(staff_client):
    code = promotion()
    page = staff_client.get(reverse("admin:promotions_promotion_change", args=[code.pk])).content.decode()
    assert 'name="paused"' not in page


def test_the_add_page_opens_with_empty_figures(staff_client):
    page = staff_client.get(reverse("admin:promotions_promotion_add"))
    assert page.status_code == 200
    assert 'name="code"' in page.content.decode()
