"""Reviews after a completed booking: who may write and read what, and when (reviews/rules.py), the
double-blind publication, the rating it feeds, and bad input that changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import BookingStatus
from companions import services as companion_services
from companions.models import CompanionProfile, bayesian_rating
from reviews import rules, selectors, services
from reviews.errors import ReviewError, ReviewNotAllowed
from reviews.models import Direction, Review
from tests.bookings.helpers import NOW, make_companion, new_customer, request
from tests.factories import StaffFactory
from tests.reviews.helpers import STARS, completed_booking, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """timezone.now for the views, movable: clock.now = ..."""

    class Clock:
        now = NOW

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def booking(clock):
    booking = completed_booking()
    clock.now = booking.closed_at + timedelta(hours=1)
    return booking


def page(client, user, booking):
    client.force_login(user)
    return client.get(reverse("reviews:write", args=[booking.reference]))


def post(client, user, booking, **overrides):
    client.force_login(user)
    return client.post(reverse("reviews:write", args=[booking.reference]), form_data(**overrides))


def rating(booking) -> tuple[int, int]:
    profile = CompanionProfile.objects.get(pk=booking.companion_id)
    return profile.rating_count, profile.rating_total


def test_double_blind_each_side_sees_only_its_own_until_both_have_written(client, booking):
    customer, companion = booking.customer, booking.companion.user
    assert post(client, customer, booking).status_code == 302
    review = Review.objects.get()
    assert review.direction == Direction.OF_COMPANION and review.published_at is None
    # The companion cannot read it yet, anywhere; the public rating does not count it.
    assert selectors.booking_reviews(booking, companion)["theirs"] is None
    assert "ngobrolnya seru" not in page(client, companion, booking).content.decode()
    assert rating(booking) == (0, 0)
    # Its author sees it, waiting.
    assert "ngobrolnya seru" in page(client, customer, booking).content.decode()

    assert post(client, companion, booking, text="Sopan dan jelas permintaannya.", overall=4).status_code == 302
    reviews = {review.direction: review for review in Review.objects.all()}
    assert reviews[Direction.OF_COMPANION].published_at == reviews[Direction.OF_CUSTOMER].published_at is not None
    assert "ngobrolnya seru" in page(client, companion, booking).content.decode()
    # The companion's review of the customer is never shown to the customer.
    assert selectors.booking_reviews(booking, customer)["theirs"] is None
    assert "Sopan dan jelas" not in page(client, customer, booking).content.decode()
    assert rating(booking) == (1, STARS["overall"])  # only the customer's review rates the companion


def test_the_window_closing_publishes_a_lone_review_once(client, booking, clock):
    services.review_submit(booking_id=booking.pk, author=booking.customer, stars=STARS, now=clock.now)
    closes = rules.window_closes_at(booking)
    assert closes == booking.closed_at + timedelta(days=14)
    assert services.reviews_publish_due(now=closes - timedelta(seconds=1)) == 0
    assert services.reviews_publish_due(now=closes) == 1
    assert services.reviews_publish_due(now=closes + timedelta(days=1)) == 0  # the second run changes nothing
    assert Review.objects.get().published_at == closes
    assert rating(booking) == (1, 5)
    # And nobody can write any more: the companion's page says so, and a POST stores nothing.
    clock.now = closes
    response = post(client, booking.companion.user, booking)
    assert response.status_code == 422
    assert "Waktu untuk mengulas pesanan ini sudah berakhir" in response.content.decode()
    assert Review.objects.count() == 1


@pytest.mark.parametrize(
    "overrides",
    [{"overall": "0"}, {"overall": "6"}, {"punctuality": "x"}, {"communication": ""}, {"text": "a" * 1001}],
    ids=["zero", "six", "not-a-number", "missing", "too-long"],
)
def test_bad_input_is_refused_with_a_translated_error_and_keeps_what_was_typed(client, booking, overrides):
    response = post(client, booking.customer, booking, **overrides)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Pilih 1 sampai 5 bintang." in html or "paling banyak 1000 karakter" in html
    assert "Tepat waktu dan ramah" in html or "text" in overrides  # the text typed stays in the form
    assert not Review.objects.exists()


def test_the_service_refuses_out_of_range_stars_too():
    booking = completed_booking()
    for bad in (0, 6, True, "5", None):
        with pytest.raises(ReviewError):
            services.review_submit(
                booking_id=booking.pk, author=booking.customer, stars={**STARS, "overall": bad}, now=booking.closed_at
            )
    assert not Review.objects.exists()


def test_a_second_submission_changes_nothing(client, booking):
    assert post(client, booking.customer, booking).status_code == 302
    again = post(client, booking.customer, booking, overall="1", text="Diganti")
    assert again.status_code == 422
    assert Review.objects.get().overall == 5
    with pytest.raises(ReviewNotAllowed):
        services.review_submit(booking_id=booking.pk, author=booking.customer, stars=STARS, now=timezone.now())


def test_only_the_parties_of_a_completed_booking_may_open_the_page(client, booking):
    stranger, other_companion, staff = new_customer(), make_companion().user, StaffFactory()
    for user in (stranger, other_companion, staff):
        assert page(client, user, booking).status_code == 404
        assert post(client, user, booking).status_code == 404
    client.logout()
    assert client.get(reverse("reviews:write", args=[booking.reference])).status_code == 302  # to log in
    assert not Review.objects.exists()


def test_a_booking_not_yet_completed_cannot_be_reviewed(client, clock):
    profile = make_companion()
    booking = request(new_customer(), profile)
    assert booking.status == BookingStatus.REQUESTED
    assert page(client, booking.customer, booking).status_code == 404
    with pytest.raises(ReviewNotAllowed):
        services.review_submit(booking_id=booking.pk, author=booking.customer, stars=STARS, now=NOW)


def test_review_text_is_escaped(client, booking):
    post(client, booking.customer, booking, text='<script>alert("x")</script> & <b>bold</b>')
    post(client, booking.companion.user, booking)
    html = page(client, booking.companion.user, booking).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_the_booking_page_offers_the_review_to_each_party_until_they_write(client, booking):
    client.force_login(booking.customer)
    detail = reverse("bookings:detail", args=[booking.reference])
    assert reverse("reviews:write", args=[booking.reference]) in client.get(detail).content.decode()
    post(client, booking.customer, booking)
    html = client.get(detail).content.decode()
    assert "Ulasanmu sudah terkirim" in html
    staff = StaffFactory()
    client.force_login(staff)
    assert "data-review-card" not in client.get(detail).content.decode()  # staff read reviews in the admin


def test_staff_hide_a_review_with_a_reason_and_its_stars_leave_the_rating(client, booking):
    post(client, booking.customer, booking)
    post(client, booking.companion.user, booking, text="Pelanggan yang sopan.")
    review = Review.objects.get(direction=Direction.OF_COMPANION)
    assert rating(booking) == (1, 5)
    with pytest.raises(ReviewError):
        services.review_hide(review_id=review.pk, staff=StaffFactory(), reason="  ")
    services.review_hide(review_id=review.pk, staff=StaffFactory(), reason="Berisi nomor telepon")
    services.review_hide(review_id=review.pk, staff=StaffFactory(), reason="again")  # once only
    assert rating(booking) == (0, 0)
    review.refresh_from_db()
    assert not rules.may_read(review, booking.companion.user)
    assert "ngobrolnya seru" not in page(client, booking.companion.user, booking).content.decode()


def test_the_rating_is_a_bayesian_mean_shown_from_three_reviews():
    profile = make_companion()
    assert profile.rating is None
    profile.rating_count, profile.rating_total = 2, 10
    assert profile.rating is None
    profile.rating_count, profile.rating_total = 3, 15
    assert profile.rating == bayesian_rating(15, 3) == Decimal("4.4")  # (4 x 5 + 15) / 8 = 4.375
    # One perfect review does not beat sixty at 4.8.
    assert bayesian_rating(5, 1) < bayesian_rating(288, 60)


def test_the_rating_shows_on_the_profile_and_the_card_from_three_reviews(
    client, clock, settings, django_capture_on_commit_callbacks
):
    settings.COMPANION_PAGE_CACHE_SECONDS = 0
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600  # cards and profile parts are renewed by the rating
    profile = make_companion()
    bookings = [completed_booking(profile) for _ in range(3)]  # one after another, three customers
    url = reverse("companions:profile", args=[profile.slug])
    for booking in bookings:
        clock.now = booking.closed_at + timedelta(hours=1)
        html = client.get(url).content.decode()
        assert "data-rating" not in html  # fewer than three published reviews: no rating yet
        with django_capture_on_commit_callbacks(execute=True):  # the companion's version moves after commit
            services.review_submit(booking_id=booking.pk, author=booking.customer, stars=STARS, now=clock.now)
            services.review_submit(
                booking_id=booking.pk, author=profile.user, stars={**STARS, "overall": 1}, now=clock.now
            )
    html = client.get(url).content.decode()
    assert "data-rating" in html and "4,4" in html and "3 ulasan" in html  # (4 x 5 + 3 x 5) / 8 = 4.375
    search = client.get(reverse("companions:search")).content.decode()
    assert "4,4" in search and "3 ulasan" in search


def test_the_profile_lists_published_reviews_with_the_companions_one_answer(
    client, booking, django_capture_on_commit_callbacks
):
    customer, companion = booking.customer, booking.companion.user
    profile_url = reverse("companions:profile", args=[booking.companion.slug])
    with django_capture_on_commit_callbacks(execute=True):
        post(client, customer, booking)
    assert "ngobrolnya seru" not in client.get(profile_url).content.decode()  # not published yet
    with django_capture_on_commit_callbacks(execute=True):
        post(client, companion, booking, text="Pelanggan yang sopan.")
    html = client.get(profile_url).content.decode()
    assert "ngobrolnya seru" in html and "Pelanggan yang sopan" not in html  # never the review of the customer
    assert customer.email not in html  # a first name only

    # The companion answers once; the customer cannot; a second answer changes nothing.
    reply = reverse("reviews:reply", args=[booking.reference])
    client.force_login(customer)
    assert client.post(reply, {"reply": "Saya juga"}).status_code == 404
    client.force_login(companion)
    assert client.post(reply, {"reply": ""}).status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reply, {"reply": "Terima kasih, sampai jumpa lagi!"}).status_code == 302
    assert client.post(reply, {"reply": "Diganti"}).status_code == 422
    assert Review.objects.get(direction=Direction.OF_COMPANION).reply == "Terima kasih, sampai jumpa lagi!"
    assert "Terima kasih, sampai jumpa lagi!" in client.get(profile_url).content.decode()
    assert "Terima kasih, sampai jumpa lagi!" in page(client, customer, booking).content.decode()

    # Hidden by staff: the profile says it was removed, without its text.
    with django_capture_on_commit_callbacks(execute=True):
        services.review_hide(
            review_id=Review.objects.get(direction=Direction.OF_COMPANION).pk, staff=StaffFactory(), reason="Spam"
        )
    html = client.get(profile_url).content.decode()
    assert "ngobrolnya seru" not in html and "dihapus oleh Kompanion" in html


def test_profile_and_search_queries_stay_constant_as_reviews_grow(client, clock, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.COMPANION_PAGE_CACHE_SECONDS = 0
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 0  # everything asked every time

    def counts(profile) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as on_profile:
            assert client.get(reverse("companions:profile", args=[profile.slug])).status_code == 200
        with CaptureQueriesContext(connection) as on_search:
            assert client.get(reverse("companions:search")).status_code == 200
        return len(on_profile), len(on_search)

    profile = make_companion()
    counts(profile)  # the first search of a process reads the reference lists (cities, activities) once
    few = counts(profile)
    for _ in range(4):
        booking = completed_booking(profile)
        for author in (booking.customer, profile.user):
            services.review_submit(booking_id=booking.pk, author=author, stars=STARS, now=booking.closed_at)
    clock.now = timezone.now()
    assert Review.objects.filter(published_at__isnull=False).count() == 8
    assert counts(profile) == few
    assert few[0] <= 8


def test_best_rated_orders_search_by_the_bayesian_mean():
    from companions.selectors import SearchQuery, Sort, search_companions

    one_perfect, sixty_good, unrated = make_companion(), make_companion(), make_companion()
    companion_services.profile_rating_change(profile_id=one_perfect.pk, count=1, stars=5)
    companion_services.profile_rating_change(profile_id=sixty_good.pk, count=60, stars=288)
    scores = dict(CompanionProfile.objects.values_list("pk", "rating_score"))
    assert scores[one_perfect.pk] == (20 + 5) * 1000 // 6 and scores[sixty_good.pk] == (20 + 288) * 1000 // 65
    assert scores[unrated.pk] == 4000
    order = [profile.pk for profile in search_companions(SearchQuery(sort=Sort.BEST_RATED), now=NOW)]
    assert order == [sixty_good.pk, one_perfect.pk, unrated.pk]


def test_the_real_app_registers_its_hooks():
    from bookings import hooks
    from companions import review_facts

    assert hooks.registered()["review_summary"] == (selectors.booking_review_summary,)
    assert review_facts._provider is selectors.public_reviews


def test_a_companion_reads_what_others_wrote_of_a_customer_only_on_that_customers_request(client, booking, clock):
    customer = booking.customer
    post(client, customer, booking)
    post(client, booking.companion.user, booking, text="Pelanggan yang sopan dan tepat waktu.", overall=4)
    asked, not_asked = make_companion(), make_companion()
    clock.now = NOW
    request(customer, asked)
    inbox = reverse("bookings:requests")
    client.force_login(asked.user)
    html = client.get(inbox).content.decode()
    assert "data-customer-reviews" in html and "Pelanggan yang sopan dan tepat waktu." in html
    assert "1 ulasan dari companion" in html
    client.force_login(not_asked.user)
    assert "Pelanggan yang sopan dan tepat waktu." not in client.get(inbox).content.decode()
    client.force_login(customer)
    assert "Pelanggan yang sopan dan tepat waktu." not in page(client, customer, booking).content.decode()


def test_both_sides_are_asked_once_to_review_by_the_completion_message():
    from notifications.messages import render
    from notifications.models import Notification

    booking = completed_booking()
    asked = Notification.objects.filter(event="booking_completed", context__reference=booking.reference)
    assert sorted(asked.values_list("recipient_id", flat=True)) == sorted(
        [booking.customer_id, booking.companion.user_id]
    )
    rendered = render("booking_completed", {"reference": booking.reference}, language="id", zone="Asia/Jakarta")
    assert "Beri ulasan dalam 14 hari" in rendered.body
    assert rendered.path == reverse("bookings:detail", args=[booking.reference])  # where the review card is


def test_a_low_review_offers_a_confidential_safety_report_to_staff_only(client, booking, staff):
    from reviews.models import SafetyReport

    customer, companion = booking.customer, booking.companion.user
    response = post(client, customer, booking, overall="2", text="Dia terus menanyakan alamat rumahku.")
    assert response.status_code == 302 and response["Location"] == reverse("reviews:write", args=[booking.reference])
    html = page(client, customer, booking).content.decode()
    assert "data-safety-report" in html
    safety = reverse("reviews:safety_report", args=[booking.reference])
    assert client.post(safety, {"details": ""}).status_code == 422
    assert client.post(safety, {"details": "Dia memaksa ketemu di hotel."}).status_code == 302
    assert client.post(safety, {"details": "Lagi"}).status_code == 422  # once
    report = SafetyReport.objects.get()
    assert report.details == "Dia memaksa ketemu di hotel." and report.review.overall == 2  # the stars stay
    # The other side never reads it, even once the reviews are published; the companion cannot report
    # with a 5-star review.
    post(client, companion, booking)
    for user in (companion, customer):
        assert "memaksa ketemu di hotel" not in page(client, user, booking).content.decode()
    client.force_login(companion)
    assert client.post(safety, {"details": "Saya juga"}).status_code == 422
    assert SafetyReport.objects.count() == 1
    # Staff read it in the admin.
    client.force_login(staff)
    assert (
        "memaksa ketemu di hotel"
        in client.get(reverse("admin:reviews_safetyreport_change", args=[report.pk])).content.decode()
    )


def test_the_rating_filter_keeps_companions_whose_shown_rating_is_4_or_more(client):
    high, low, few = make_companion(), make_companion(), make_companion()
    companion_services.profile_rating_change(profile_id=high.pk, count=3, stars=13)  # 33/8 = 4.125 -> "4,1"
    companion_services.profile_rating_change(profile_id=low.pk, count=3, stars=11)  # 31/8 = 3.875 -> "3,9"
    companion_services.profile_rating_change(profile_id=few.pk, count=2, stars=10)  # not shown yet
    response = client.get(reverse("companions:search"), {"rating": "4"})
    slugs = {card.slug for card in response.context["cards"]}
    assert slugs == {high.slug}
    assert "rating 4+" in response.content.decode()  # its removable chip
    # A hostile value is dropped with a note, never an error.
    response = client.get(reverse("companions:search"), {"rating": "9'; drop table"})
    assert response.status_code == 200 and len(response.context["cards"]) == 3
    assert bayesian_rating(12, 3) == Decimal("4.0")  # 32/8: the boundary counts as 4


def test_a_nul_or_overlong_reference_is_a_4xx_not_an_error(client, booking):
    """A NUL in the path is refused by core.middleware.NulInPathMiddleware (400); the selector refuses
    it too (and an overlong reference) before any query, for callers that do not come through a path."""
    from bookings.selectors import booking_for_user

    client.force_login(booking.customer)
    assert client.get("/bookings/KMP-%00AAAA/review/").status_code == 400
    reference = "K" * 300
    assert client.get(f"/bookings/{reference}/review/").status_code == 404
    assert client.post(f"/bookings/{reference}/review/reply/").status_code == 404
    assert client.get(f"/bookings/{reference}/").status_code == 404
    assert booking_for_user("KMP-\x00AAAA", booking.customer) is None


def test_a_review_hidden_before_it_is_published_never_counts(
    client, booking, clock, django_capture_on_commit_callbacks
):
    post(client, booking.customer, booking)
    review = Review.objects.get()
    services.review_hide(review_id=review.pk, staff=StaffFactory(), reason="Kata-kata kasar")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, booking.companion.user, booking, text="Pelanggan yang sopan.").status_code == 302
    review.refresh_from_db()
    assert review.published_at is not None and rating(booking) == (0, 0)
    html = page(client, booking.customer, booking).content.decode()
    assert "ngobrolnya seru" not in html and "dihapus oleh Kompanion" in html  # not even its author reads it
    profile = client.get(reverse("companions:profile", args=[booking.companion.slug])).content.decode()
    assert "dihapus oleh Kompanion" in profile and "ngobrolnya seru" not in profile
