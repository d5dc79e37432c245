"""The booking request page's promo code and welcome discount (issue 16): "Apply" re-prices the page (HTMX
swaps #booking; without JavaScript the same button is a plain submit), a code that does not apply says why
and keeps what was typed, the rate limit answers a friendly message, sending keeps the code or refuses it
as a form error; hostile input never makes a 500 and is escaped."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from bookings.models import Booking
from core.forms import clean_text
from promotions.models import Promotion, Redemption
from tests.bookings.helpers import booking_form, make_companion, new_customer
from tests.bookings.test_pages import book, free_starts, new_url

pytestmark = pytest.mark.django_db

# 2 h at Rp 150.000: subtotal 300.000, service fee 30.000, total 330.000; 15% of the subtotal is 45.000.


@pytest.fixture(autouse=True)
def _english_pages(client):
    client.cookies["kompanion_language"] = "en"


@pytest.fixture
def profile():
    return make_companion()


@pytest.fixture
def customer():
    customer = new_customer()
    # Its code-check counters start at zero (a reused database may repeat an id within the minute); only
    # these keys: clearing the whole cache would reset other test workers' counters too.
    minute = int(time.time() // 60)
    cache.delete_many([f"promo-check:user:{customer.pk}:{minute + step}" for step in (0, 1)])
    return customer


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def welcome(settings):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1000  # 10% up to Rp 50.000: Rp 30.000 on this booking
    settings.WELCOME_DISCOUNT_CAP = 50_000


def code(value="HEMAT15", **fields) -> Promotion:
    defaults = {"kind": Promotion.Kind.PERCENT, "basis_points": 1500, "amount": 50_000}
    return Promotion.objects.create(code=value, **{**defaults, **fields})


def apply(client, profile, start, typed, **extra):
    """The "Apply" button: the form's values with refresh (as HTMX sends them)."""
    data = {**booking_form(start), "promo_code": typed, "refresh": "1", "promo_check": "1", **extra}
    data.pop("safety", None)
    return client.post(new_url(profile, start), data, HTTP_HX_REQUEST="true")


def rupiah(amount: int) -> str:
    return f"Rp\xa0{amount:,}"  # English pages: "Rp 285,000"


def test_apply_shows_the_discount_and_the_new_total_and_books_nothing(customer_client, profile):
    code()
    start = free_starts(profile)[0]
    response = apply(customer_client, profile, start, " hemat15 ")
    page = response.content.decode()
    assert response.status_code == 200
    assert "HEMAT15 (15%)" in page and f"−{rupiah(45_000)}" in page
    assert rupiah(285_000) in page and rupiah(330_000) not in page
    assert "Code applied: you save" in page
    assert 'value=" hemat15 "' in page  # what was typed stays
    assert "data-autofocus" in page.split('id="id_promo_code"')[1].split(">")[0]  # focus back on the field
    assert Booking.objects.count() == 0 and Redemption.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, "This code is not valid."),  # unknown: no such code
        ({"minimum_subtotal": 400_000}, "at least Rp"),
        ({"paused": True}, "paused"),
    ],
)
def test_a_code_that_does_not_apply_says_why_and_the_price_stays(customer_client, profile, fields, reason):
    code("OTHER" if not fields else "HEMAT15", **fields)
    start = free_starts(profile)[0]
    page = apply(customer_client, profile, start, "HEMAT15").content.decode()
    assert reason in page
    assert 'aria-invalid="true"' in page
    assert rupiah(330_000) in page and "−Rp" not in page
    assert 'value="HEMAT15"' in page


def test_an_unknown_and_an_expired_code_do_not_read_alike_but_unknown_is_one_message(customer_client, profile):
    from datetime import timedelta

    from django.utils import timezone

    code("OLD", valid_until=timezone.now() - timedelta(days=1), valid_from=timezone.now() - timedelta(days=9))
    start = free_starts(profile)[0]
    assert "This code has expired." in apply(customer_client, profile, start, "old").content.decode()
    for typed in ("NOPE", "NOPE2"):
        assert "This code is not valid." in apply(customer_client, profile, start, typed).content.decode()


def test_the_welcome_discount_shows_on_a_first_booking_and_a_code_replaces_it(
    customer_client, customer, profile, welcome
):
    start = free_starts(profile)[0]
    page = customer_client.get(new_url(profile, start)).content.decode()
    assert "Welcome discount (10%)" in page and f"−{rupiah(30_000)}" in page and rupiah(300_000) in page
    assert "first booking gets the new customer discount" in page
    assert "one discount per booking" in page

    code()
    page = apply(customer_client, profile, start, "HEMAT15").content.decode()
    assert "HEMAT15 (15%)" in page and f"−{rupiah(45_000)}" in page and rupiah(285_000) in page
    assert "Welcome discount" not in page  # never both

    code("BIG", minimum_subtotal=900_000)
    page = apply(customer_client, profile, start, "BIG").content.decode()
    assert "at least Rp" in page and "Without the code, your first booking still gets" in page
    assert rupiah(300_000) in page  # the figures of a request sent without the code


def test_no_welcome_discount_after_a_first_booking(customer_client, customer, profile, welcome):
    starts = free_starts(profile)
    book(customer, profile, starts[0])
    page = customer_client.get(new_url(profile, starts[8])).content.decode()
    assert "Welcome discount" not in page and "−Rp" not in page


def test_too_many_checks_answer_a_friendly_message_never_an_error(customer_client, profile, settings):
    settings.PROMO_CODE_CHECKS_PER_MINUTE = 3
    code()
    start = free_starts(profile)[0]
    for _ in range(3):
        assert "HEMAT15 (15%)" in apply(customer_client, profile, start, "HEMAT15").content.decode()
    response = apply(customer_client, profile, start, "HEMAT15")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Too many code checks" in page and 'value="HEMAT15"' in page
    assert rupiah(330_000) in page


def test_sending_codes_counts_as_checks_and_past_the_limit_is_refused_but_not_without_a_code(
    customer_client, profile, settings
):
    settings.PROMO_CODE_CHECKS_PER_MINUTE = 2
    start = free_starts(profile)[0]
    for typed in ("GUESS1", "GUESS2"):
        response = customer_client.post(new_url(profile, start), booking_form(start, promo_code=typed))
        assert response.status_code == 422 and "This code is not valid." in response.content.decode()
    code("GUESS3", valid_until=None)
    response = customer_client.post(new_url(profile, start), booking_form(start, promo_code="GUESS3"))
    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many code checks" in page and 'value="GUESS3"' in page
    assert "GUESS3 (15%)" not in page and Booking.objects.count() == 0
    response = customer_client.post(new_url(profile, start), booking_form(start, promo_code=""))
    assert response.status_code == 302 and Booking.objects.get().discount == 0


def test_sending_with_a_code_freezes_the_discount(customer_client, customer, profile):
    code()
    start = free_starts(profile)[0]
    response = customer_client.post(new_url(profile, start), booking_form(start, promo_code="hemat15"))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.discount, booking.total) == (45_000, 285_000)
    assert booking.redemption.status == Redemption.Status.RESERVED


def test_without_javascript_a_bad_code_is_a_form_error_that_keeps_everything_typed(customer_client, profile):
    start = free_starts(profile)[0]
    data = booking_form(start, promo_code="NOPE", note="Makan bakso dulu ya")
    response = customer_client.post(new_url(profile, start), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert "This code is not valid." in page
    assert 'value="NOPE"' in page and "Makan bakso dulu ya" in page
    assert Booking.objects.count() == 0
    # The request can still be sent without the code.
    data["promo_code"] = ""
    assert customer_client.post(new_url(profile, start), data).status_code == 302
    assert Booking.objects.get().discount == 0


HOSTILE = [
    "' OR 1=1 --",
    "HEMAT15'; DROP TABLE promotions_promotion; --",
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "x" * 10_000,
    "😀" * 40,
    "ＨＥＭＡＴ１５",
    "HEMAT\x0015",
    "\u202eHEMAT15",
    "%00%27",
    "",
    "   ",
]


@pytest.mark.parametrize("typed", HOSTILE)
def test_hostile_codes_never_make_a_500_and_are_escaped(customer_client, profile, typed):
    code()
    start = free_starts(profile)[0]
    applied = apply(customer_client, profile, start, typed)
    sent = customer_client.post(new_url(profile, start), booking_form(start, promo_code=typed))
    shown = customer_client.get(new_url(profile, start) + "&promo_code=" + typed[:200].replace("&", "%26"))
    for response in (applied, sent, shown):
        assert response.status_code < 500
        page = response.content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page
    assert Promotion.objects.filter(code="HEMAT15").exists()
    # Control and format characters are dropped, so "HEMAT\x0015" is the real code; none of the others is.
    real = clean_text(typed).strip().lower() == "hemat15"
    assert Booking.objects.filter(discount__gt=0).count() == (1 if real else 0)


def test_signed_out_visitors_and_companions_cannot_check_codes(client, profile):
    start = free_starts(profile)[0]
    response = apply(client, profile, start, "HEMAT15")
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    client.force_login(make_companion(name="Other").user)
    assert apply(client, profile, start, "HEMAT15").status_code == 403


# --- The home page ---------------------------------------------------------------------------------------


def test_the_home_page_offers_the_welcome_discount_to_visitors_and_customers_who_never_booked(
    client, customer, profile, settings
):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1500
    settings.WELCOME_DISCOUNT_CAP = 50_000
    offer = f"15% off your first booking, up to {rupiah(50_000)}"
    assert offer in client.get("/").content.decode()
    client.force_login(customer)
    assert offer in client.get("/").content.decode()
    book(customer, profile, free_starts(profile)[0])
    assert offer not in client.get("/").content.decode()
    client.force_login(profile.user)
    assert "off your first booking" not in client.get("/").content.decode()


def test_the_home_page_offer_in_indonesian_and_off_when_the_setting_is_zero(client, settings):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1500
    settings.WELCOME_DISCOUNT_CAP = 50_000
    client.cookies["kompanion_language"] = "id"
    assert "Diskon 15% untuk pemesanan pertamamu, maks. Rp\xa050.000" in client.get("/").content.decode()
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 0
    assert "data-welcome-offer" not in client.get("/").content.decode()
