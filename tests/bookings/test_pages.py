"""The booking pages through the test client: the whole flow, the failure answers (409 with other free
times, 400 for a bad start, 422, 503), constant query counts, the ICS feed and the dev-only payment.

Views read the real clock, so starts here are real free times from the availability engine (the
service tests use the fixed clock in helpers.py)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.errors import BookingBusy, SlotTaken
from bookings.ics import ics_escape, ics_fold
from bookings.models import Booking, BookingStatus, CalendarFeed
from companions import selectors as companion_selectors
from companions.models import Activity
from tests.bookings.helpers import MEETING_PLACE, booking_form, make_companion, new_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(client):
    """Texts are compared in English; the pages are Indonesian by default (both are translated)."""
    client.cookies["kompanion_language"] = "en"


def free_starts(profile, hours: int = 2, *, days_ahead: int = 2) -> list:
    """Real free start times from `days_ahead` days on (comfortably past the notice and the 12 h window)."""
    now = timezone.now()
    return companion_selectors.free_start_times(
        profile, start=now + timedelta(days=days_ahead), end=now + timedelta(days=days_ahead + 3), hours=hours
    )


def book(customer, profile, start, *, hours: int = 2, status: str = BookingStatus.REQUESTED, **extra) -> Booking:
    booking = services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=hours,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place=extra.pop("meeting_place", MEETING_PLACE),
        **extra,
    )
    if status in (BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMED):
        services.booking_accept(booking_id=booking.pk, actor=profile.user)
    if status == BookingStatus.CONFIRMED:
        services.booking_mark_paid(booking_id=booking.pk)
    booking.refresh_from_db()
    return booking


def new_url(profile, start=None, hours=2) -> str:
    url = reverse("bookings:new", args=[profile.slug])
    return url if start is None else f"{url}?{_query(start, hours)}"


def _query(start, hours) -> str:
    from urllib.parse import urlencode

    return urlencode({"start": start.isoformat(), "hours": hours})


@pytest.fixture
def profile(db):
    return make_companion()


@pytest.fixture
def customer(db):
    return new_customer()


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


# --- The flow ----------------------------------------------------------------------------------------


def test_request_accept_pay_confirmed_through_the_pages(client, profile, customer, webhook_over_http):
    start = free_starts(profile)[0]
    client.force_login(customer)
    page = client.get(new_url(profile, start))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Rp\u00a0300,000" in content and "Rp\u00a0330,000" in content  # 150,000 × 2 h, + 10% fee (English format)
    assert [(tier.rule, tier.until) for tier in page.context["policy_tiers"]] == [
        ("full", start - timedelta(hours=24)),
        ("partial", start - timedelta(hours=2)),
        ("none", None),
    ]

    response = client.post(new_url(profile, start), booking_form(start))
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:detail", args=[booking.reference])
    assert (booking.customer, booking.start, booking.hours, booking.status) == (
        customer,
        start,
        2,
        BookingStatus.REQUESTED,
    )

    client.force_login(profile.user)
    inbox = client.get(reverse("bookings:requests"))
    assert [row.reference for row in inbox.context["bookings"]] == [booking.reference]
    assert "Rp\u00a0300,000 − commission Rp\u00a060,000 = <strong>Rp\u00a0240,000</strong>" in inbox.content.decode()
    assert client.post(reverse("bookings:accept", args=[booking.reference])).status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT

    client.force_login(customer)
    checkout = client.post(reverse("payments:checkout", args=[booking.reference]))
    assert checkout.status_code == 302 and "/payments/simulator/" in checkout["Location"]
    paid = client.post(checkout["Location"], {"action": "pay_qris"})
    assert paid["Location"].endswith(reverse("payments:status", args=[booking.reference]))
    detail = client.get(reverse("bookings:detail", args=[booking.reference]))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    steps = detail.context["steps"]
    assert [step.key for step in steps] == ["requested", "awaiting_payment", "paid", "confirmed", "completed"]
    assert [step.state for step in steps] == ["done", "done", "done", "current", "upcoming"]
    assert 'aria-current="step"' in detail.content.decode()


def test_the_profile_links_each_free_time_to_the_booking_page(client, profile):
    response = client.get(reverse("companions:profile", args=[profile.slug]))
    first = free_starts(profile, hours=profile.min_hours, days_ahead=0)[0]
    expected = f"{reverse('bookings:new', args=[profile.slug])}?start="
    content = response.content.decode()
    assert expected in content and f"hours={profile.min_hours}" in content
    # The link carries an ISO start the booking page reads back exactly.
    href = content.split(expected, 1)[1].split('"', 1)[0]
    from urllib.parse import parse_qs

    start = parse_qs("start=" + href.replace("&amp;", "&"))["start"][0]
    assert timezone.datetime.fromisoformat(start) == first


def test_instant_booking_says_book_and_pay_and_skips_the_answer(customer_client, customer):
    profile = make_companion(instant_booking=True)
    start = free_starts(profile)[0]
    assert "Book and pay" in customer_client.get(new_url(profile, start)).content.decode()
    customer_client.post(new_url(profile, start), booking_form(start))
    assert Booking.objects.get().status == BookingStatus.AWAITING_PAYMENT


# --- Failure answers ---------------------------------------------------------------------------------


def test_a_taken_slot_answers_409_with_other_free_times_and_keeps_what_was_typed(customer_client, profile):
    start = free_starts(profile)[0]
    book(new_customer(), profile, start)  # someone else was faster
    response = customer_client.post(
        new_url(profile, start), booking_form(start, meeting_place="Taman Suropati, Menteng")
    )
    assert response.status_code == 409
    alternatives = response.context["alternatives"]
    assert alternatives and start not in alternatives
    zone_day = start.astimezone(timezone.get_fixed_timezone(0)).date()
    assert all(abs((moment.date() - zone_day).days) <= 1 for moment in alternatives)
    content = response.content.decode()
    assert "Taman Suropati, Menteng" in content
    assert 'name="start" value="' in content and 'type="radio"' in content
    assert Booking.objects.count() == 1

    # Picking one of the offered times books it.
    other = alternatives[-1]
    retry = customer_client.post(new_url(profile, start), booking_form(other))
    assert retry.status_code == 302
    assert Booking.objects.filter(start=other).exists()


def test_a_lost_race_inside_the_service_is_a_409_never_a_500(customer_client, profile, monkeypatch):
    start = free_starts(profile)[0]

    def lose(**kwargs):
        raise SlotTaken("That time was just taken.")

    monkeypatch.setattr(services, "booking_request", lose)
    response = customer_client.post(new_url(profile, start), booking_form(start))
    assert response.status_code == 409
    assert "That time was just taken." in response.content.decode()


def test_a_busy_calendar_answers_503_with_a_retry_message(customer_client, profile, monkeypatch):
    start = free_starts(profile)[0]

    def busy(**kwargs):
        raise BookingBusy("Many people are booking right now. Please try again in a moment.")

    monkeypatch.setattr(services, "booking_request", busy)
    response = customer_client.post(new_url(profile, start), booking_form(start))
    assert response.status_code == 503
    assert "try again" in response.content.decode()
    assert MEETING_PLACE in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"safety": ""}, "safety"),
        ({"meeting_place": "abc"}, "meeting_place"),
        ({"note": "WA aku ya 0812-3456-7890"}, "note"),
        ({"note": "cek https://example.com"}, "note"),
        ({"activity": "sports"}, "activity"),  # not one of this companion's activities
        ({"hours": "9"}, "hours"),  # above the maximum
    ],
)
def test_invalid_details_answer_422_and_book_nothing(customer_client, profile, overrides, field):
    start = free_starts(profile)[0]
    response = customer_client.post(new_url(profile, start), booking_form(start, **overrides))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert Booking.objects.count() == 0


def test_a_service_refusal_is_a_form_error(customer_client, customer, profile):
    starts = free_starts(profile, hours=1)
    others = [make_companion(name=f"Other{index}") for index in range(3)]
    for index, other in enumerate(others):
        book(customer, other, free_starts(other, hours=1)[index * 6], hours=1)  # three hours apart
    response = customer_client.post(new_url(profile, starts[30]), booking_form(starts[30], hours=1))
    assert response.status_code == 422
    assert "3 open requests" in response.content.decode()
    assert not Booking.objects.filter(companion=profile).exists()


@pytest.mark.parametrize("value", ["kemarin", "2026-13-45T25:00", "1" * 60, "2020-01-01T10:00:00+07:00"])
def test_a_bad_or_past_start_is_a_clear_400_with_the_free_times(customer_client, profile, value):
    url = f"{reverse('bookings:new', args=[profile.slug])}?start={value}&hours=abc"
    for response in (customer_client.get(url), customer_client.post(url, {"start": value, "hours": "x"})):
        assert response.status_code == 400
        assert response.context["error"]
        assert response.context["days"]  # step 1 again: free times to pick from
        assert response.context["hours"] == profile.min_hours


def test_no_start_shows_step_one(customer_client, profile):
    response = customer_client.get(new_url(profile))
    assert response.status_code == 200
    assert "bookings/choose_time.html" in [template.name for template in response.templates]
    assert "?start=" in response.content.decode()


def test_an_unescaped_plus_in_the_start_still_works(customer_client, profile):
    start = free_starts(profile)[0]
    local = start.astimezone(timezone.get_fixed_timezone(7 * 60)).isoformat()  # ...+07:00
    response = customer_client.get(f"{new_url(profile)}?start={local}&hours=2")  # "+" arrives as a space
    assert response.status_code == 200
    assert response.context["start"] == start


def test_a_paused_or_unlisted_companion_cannot_be_booked(customer_client):
    paused = make_companion(name="Paused", is_paused=True)
    assert customer_client.get(new_url(paused)).status_code == 404


# --- Detail, actions ---------------------------------------------------------------------------------


def test_the_detail_page_applies_a_passed_deadline_at_once(client, customer, profile):
    booking = book(customer, profile, free_starts(profile)[0])
    Booking.objects.filter(pk=booking.pk).update(response_deadline=timezone.now() - timedelta(minutes=1))
    client.force_login(customer)
    response = client.get(reverse("bookings:detail", args=[booking.reference]))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DECLINED
    assert response.context["booking"].status == BookingStatus.DECLINED
    assert response.context["steps"][-1].label == "Declined automatically"


def test_the_status_block_polls_only_while_waiting_and_reloads_when_the_status_moved(client, customer, profile):
    booking = book(customer, profile, free_starts(profile)[0])
    url = reverse("bookings:detail", args=[booking.reference])
    client.force_login(customer)
    page = client.get(url)
    assert 'hx-trigger="every 10s"' in page.content.decode()
    poll = client.get(url, {"shown": "requested"}, headers={"HX-Request": "true", "HX-Target": "booking-status"})
    assert poll.status_code == 200 and 'id="booking-status"' in poll.content.decode()
    assert "<html" not in poll.content.decode()
    services.booking_accept(booking_id=booking.pk, actor=profile.user)
    moved = client.get(url, {"shown": "requested"}, headers={"HX-Request": "true", "HX-Target": "booking-status"})
    assert moved.status_code == 204 and moved["HX-Refresh"] == "true"
    # The companion's own turn has forms: no polling there.
    client.force_login(profile.user)
    assert 'hx-trigger="every 10s"' in client.get(url).content.decode()  # waiting for the payment now


def test_cancel_shows_the_refund_first_and_settles_by_the_policy(client, customer, profile):
    booking = book(customer, profile, free_starts(profile, days_ahead=3)[0], status=BookingStatus.CONFIRMED)
    client.force_login(customer)
    url = reverse("bookings:cancel", args=[booking.reference])
    preview = client.get(url)
    assert preview.status_code == 200
    assert "you get back Rp\u00a0330,000 (100%)" in preview.content.decode()
    assert client.post(url, {"reason": ""}).status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.refund_amount, booking.cancelled_by) == (
        BookingStatus.CANCELLED,
        330_000,
        "customer",
    )


def test_a_companion_must_give_a_reason_to_cancel(client, customer, profile):
    booking = book(customer, profile, free_starts(profile)[0], status=BookingStatus.CONFIRMED)
    client.force_login(profile.user)
    url = reverse("bookings:cancel", args=[booking.reference])
    response = client.post(url, {"reason": "sakit"[:3]})
    assert response.status_code == 422
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert client.post(url, {"reason": "Saya sakit mendadak, maaf."}).status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.refund_amount) == (BookingStatus.CANCELLED, booking.total)


def test_a_dispute_needs_ten_characters_and_a_started_booking(client, customer, profile):
    booking = book(customer, profile, free_starts(profile)[0], status=BookingStatus.CONFIRMED)
    client.force_login(customer)
    url = reverse("bookings:dispute", args=[booking.reference])
    assert client.post(url, {"reason": "buruk"}).status_code == 422
    started = timezone.now() - timedelta(hours=1)
    Booking.objects.filter(pk=booking.pk).update(
        start=started, end=started + timedelta(hours=2), hold_until=started + timedelta(hours=2, minutes=30)
    )
    assert client.post(url, {"reason": "Dia tidak datang ke tempat janjian."}).status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DISPUTED


def test_decline_with_a_reason_returns_to_the_inbox(client, customer, profile):
    booking = book(customer, profile, free_starts(profile)[0])
    client.force_login(profile.user)
    inbox = reverse("bookings:requests")
    response = client.post(
        reverse("bookings:decline", args=[booking.reference]), {"reason": "Sudah ada acara.", "next": inbox}
    )
    assert response["Location"] == inbox
    booking.refresh_from_db()
    assert (booking.status, booking.events.last().reason) == (BookingStatus.DECLINED, "Sudah ada acara.")
    # An outside `next` is ignored.
    other = book(new_customer(), profile, free_starts(profile)[-1])
    response = client.post(reverse("bookings:decline", args=[other.reference]), {"next": "https://evil.example/phish"})
    assert response["Location"] == reverse("bookings:detail", args=[other.reference])


def test_a_wrong_party_action_is_a_message_and_changes_nothing(client, customer, profile):
    booking = book(customer, profile, free_starts(profile)[0])
    client.force_login(customer)
    response = client.post(reverse("bookings:accept", args=[booking.reference]), follow=True)
    assert "Only the companion can accept this request." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED
    # The companion cannot pay for the customer either.
    services.booking_accept(booking_id=booking.pk, actor=profile.user)
    client.force_login(profile.user)
    assert client.post(reverse("payments:checkout", args=[booking.reference])).status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT


def test_customer_list_tabs(client, customer, profile):
    upcoming = book(customer, profile, free_starts(profile)[0])
    withdrawn = book(customer, profile, free_starts(profile)[-1])
    services.booking_withdraw(booking_id=withdrawn.pk, actor=customer)
    client.force_login(customer)
    assert [b.reference for b in client.get(reverse("bookings:list")).context["bookings"]] == [upcoming.reference]
    past = client.get(reverse("bookings:list"), {"tab": "past"})
    assert [b.reference for b in past.context["bookings"]] == [withdrawn.reference]


def test_instant_booking_toggle(client, profile):
    client.force_login(profile.user)
    client.post(reverse("bookings:instant_booking"), {"enabled": "on"})
    profile.refresh_from_db()
    assert profile.instant_booking is True
    client.post(reverse("bookings:instant_booking"), {"enabled": ""})
    profile.refresh_from_db()
    assert profile.instant_booking is False


def test_the_week_calendar_shows_confirmed_bookings_only(client, customer, profile):
    start = free_starts(profile)[0]
    confirmed = book(customer, profile, start, status=BookingStatus.CONFIRMED)
    book(new_customer(), profile, free_starts(profile)[-1])  # a request: not on the calendar
    client.force_login(profile.user)
    week = timezone.localdate(start, timezone=timezone.get_fixed_timezone(7 * 60))
    response = client.get(reverse("bookings:calendar"), {"week": week.isoformat()})
    shown = [booking.reference for day in response.context["days"] for booking in day.bookings]
    assert shown == [confirmed.reference]
    assert response.context["monday"].weekday() == 0
    assert client.get(reverse("bookings:calendar"), {"week": "not-a-date"}).status_code == 200


# --- Query counts ------------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_detail_and_inbox_cost_the_same_queries_for_1_or_many_bookings(client, profile):
    customer = new_customer()
    starts = free_starts(profile, hours=1, days_ahead=2)
    first = book(customer, profile, starts[0], hours=1)
    urls = {
        "list": (customer, reverse("bookings:list")),
        "detail": (customer, reverse("bookings:detail", args=[first.reference])),
        "requests": (profile.user, reverse("bookings:requests")),
    }
    before = {}
    for name, (user, url) in urls.items():
        client.force_login(user)
        before[name] = _count(client, url)
    # More bookings, from other customers too, and more events on the first one.
    services.booking_accept(booking_id=first.pk, actor=profile.user)
    for index, start in enumerate(starts[4:40:4]):
        book(customer if index < 2 else new_customer(), profile, start, hours=1)
    for name, (user, url) in urls.items():
        client.force_login(user)
        assert _count(client, url) == before[name], name


# --- ICS feed ----------------------------------------------------------------------------------------


def test_the_calendar_feed_lists_confirmed_bookings_only_and_dies_when_revoked(client, customer, profile):
    starts = free_starts(profile)
    confirmed = book(
        customer,
        profile,
        starts[0],
        status=BookingStatus.CONFIRMED,
        meeting_place="Kopi Tuku, Grand Indonesia; lantai 3\\barat",
    )
    requested = book(new_customer(), profile, starts[-1])
    old_start = timezone.now() - timedelta(days=40)
    old = book(new_customer(), profile, free_starts(profile)[8], status=BookingStatus.CONFIRMED)
    Booking.objects.filter(pk=old.pk).update(
        start=old_start, end=old_start + timedelta(hours=2), hold_until=old_start + timedelta(hours=2)
    )
    profile.user.preferred_language = "en"  # the feed speaks the companion's language
    profile.user.save(update_fields=["preferred_language"])
    client.force_login(profile.user)
    client.post(reverse("bookings:calendar_feed"), {"action": "create"})
    feed = CalendarFeed.objects.get(profile=profile)
    assert len(feed.token) >= 40
    page = client.get(reverse("bookings:calendar"))
    assert feed.token in page.content.decode() and "no-store" in page["Cache-Control"]

    client.logout()
    url = reverse("bookings:ics", args=[feed.token])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    unfolded = body.replace("\r\n ", "")
    assert unfolded.count("BEGIN:VEVENT") == 1
    assert f"UID:{confirmed.reference}@kompanion.id" in unfolded
    assert requested.reference not in unfolded and old.reference not in unfolded
    utc = confirmed.start.astimezone(timezone.get_fixed_timezone(0))
    assert f"DTSTART:{utc:%Y%m%dT%H%M%S}Z" in unfolded
    assert "LOCATION:Kopi Tuku\\, Grand Indonesia\\; lantai 3\\\\barat" in unfolded
    assert f"with {customer.get_short_name()}" in unfolded.split("SUMMARY:Kompanion: ", 1)[1].split("\r\n", 1)[0]
    assert reverse("bookings:detail", args=[confirmed.reference]) in unfolded
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))

    client.force_login(profile.user)
    client.post(reverse("bookings:calendar_feed"), {"action": "revoke"})
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get(reverse("bookings:ics", args=["not-a-token"])).status_code == 404


def test_ics_escaping_and_folding():
    assert ics_escape("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    line = "DESCRIPTION:" + "é" * 80
    folded = ics_fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_an_unknown_feed_token_is_not_logged(client, caplog):
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get(reverse("bookings:ics", args=["secret-looking-token"])).status_code == 404
    assert "secret-looking-token" not in caplog.text
