"""Demo reviews for `make run`: Ayu met the three demo customers last week, and both sides reviewed each
meeting, so her profile and card show a rating from three published reviews. Budi's completed booking
with Bima (bookings/demo.py) is left unreviewed: signed in as Budi or Bima, it can be reviewed.
The history companions' past bookings (bookings.demo.seed_history) were mostly reviewed by both sides,
a day or two after each meeting, with the stars of HISTORY_STARS. Made through the real services;
idempotent.

Paying is payments' business, above reviews: the seed command (web) passes `pay`."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from bookings.demo import Pay, completed_in_the_past
from bookings.demo import seed_history as seed_history_bookings
from bookings.models import Booking
from companions.models import CompanionProfile
from reviews import services
from reviews.models import Review

CUSTOMER_REVIEWS = [
    ("pelanggan@kompanion.test", 5, "Ayu tepat waktu dan enak diajak ngobrol. Tur kulinernya seru banget!"),
    ("budi@kompanion.test", 4, "Ramah dan tahu banyak tempat makan enak. Sedikit terlambat karena macet."),
    ("sinta@kompanion.test", 5, "Sopan, jelas, dan menghormati batasan. Mau booking lagi."),
]


def seed_reviews(*, pay: Pay) -> int:
    """Returns how many reviews it wrote (0 when Ayu already has reviews)."""
    profile = CompanionProfile.objects.filter(slug__startswith="ayu", is_listed=True).first()
    if profile is None or Review.objects.filter(companion=profile).exists():
        return 0
    written = 0
    for index, (email, stars, text) in enumerate(CUSTOMER_REVIEWS):
        customer = User.objects.filter(email=email).first()
        if customer is None:
            continue
        booking = completed_in_the_past(
            customer,
            profile,
            requested=timezone.now() - timedelta(days=9, hours=index),
            meeting_place="Kopi Tuku, Cipete",
            note="Demo: jalan-jalan kuliner.",
            pay=pay,
        )
        if booking is None:
            continue
        stars_given = {
            "overall": stars,
            "punctuality": stars,
            "communication": 5,
            "as_described": 5,
            "respected_boundaries": 5,
        }
        services.review_submit(booking_id=booking.pk, author=customer, stars=stars_given, text=text)
        services.review_submit(
            booking_id=booking.pk,
            author=profile.user,
            stars={**stars_given, "overall": 5},
            text="Pelanggan yang sopan dan jelas permintaannya.",
        )
        written += 2
    return written


# The customers' overall stars for each history companion's bookings, oldest first (None: not reviewed).
# The profile's rating is Bayesian, (stars + 4 x 5) / (reviews + 5): Jessica's 21 reviews give
# (18 x 5 + 3 x 4 + 20) / 26 = 4.69 -> 4.7, Gold's minimum; Anisa's 8 give (7 x 5 + 4 + 20) / 13 = 4.54 -> 4.5,
# Silver's.
HISTORY_STARS = {
    "jessica": [5, 5, None, 5, 4, 5, 5, None, 5, 5, 5, 4, None, 5, 5, 5, 5, None, 5, 4, 5, 5, None, 5, 5, 5],
    "anisa": [5, None, 5, 5, 4, None, 5, 5, None, 5, 5],
}
HISTORY_TEXTS = {
    5: [
        "Tepat waktu, ramah, dan tahu tempat-tempat seru. Recommended!",
        "Ngobrolnya nyambung dan sopan. Waktunya terasa cepat sekali.",
        "Persis seperti di profil. Pasti booking lagi.",
    ],
    4: ["Menyenangkan, hanya sedikit terlambat karena hujan."],
}


def seed_history(*, pay: Pay) -> tuple[int, int]:
    """The history companions' past bookings (bookings.demo.seed_history), each reviewed by both sides as
    HISTORY_STARS says, at the time they would have written. Returns (bookings, reviews) made."""
    bookings = seed_history_bookings(pay=pay)
    seen: dict[int, int] = {}
    written = 0
    for booking in bookings:
        index = seen[booking.companion_id] = seen.get(booking.companion_id, -1) + 1
        plan = next((stars for name, stars in HISTORY_STARS.items() if booking.companion.slug.startswith(name)), [])
        stars = plan[index] if index < len(plan) else None
        if stars is not None:
            written += _review_both_sides(booking, stars, text=HISTORY_TEXTS[stars][index % len(HISTORY_TEXTS[stars])])
    return len(bookings), written


def _review_both_sides(booking: Booking, stars: int, *, text: str) -> int:
    """The companion writes a few hours after the booking completed, the customer the next day: the second
    review publishes both."""
    given = {"overall": stars, "punctuality": stars, "communication": 5, "as_described": 5, "respected_boundaries": 5}
    services.review_submit(
        booking_id=booking.pk,
        author=booking.companion.user,
        stars={**given, "overall": 5, "punctuality": 5},
        text="Pelanggan yang ramah dan tepat waktu.",
        now=booking.closed_at + timedelta(hours=3),
    )
    services.review_submit(
        booking_id=booking.pk,
        author=booking.customer,
        stars=given,
        text=text,
        now=booking.closed_at + timedelta(days=1),
    )
    return 2
