"""Demo reviews for `make run`: Ayu met the three demo customers last week, and both sides reviewed each
meeting, so her profile and card show a rating from three published reviews. Budi's completed booking
with Bima (bookings/demo.py) is left unreviewed: signed in as Budi or Bima, it can be reviewed.
Made through the real services; idempotent.

Paying is payments' business, above reviews: the seed command (web) passes `pay`."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from bookings.demo import Pay, completed_in_the_past
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
