"""`make run`'s demo, seeded once here (it takes a while) and checked for what it promises:

- Defect 10: `make run` printed about 1,900 lines of demo emails before the demo logins. The seed's
  emails stay out of the console and the logins come last (the history customers are one mention in
  the summary, not logins).
- Issue 13: published reviews (Ayu has a rating from three); companions at different levels, earned by
  their figures (past bookings by several customers and reviews, through the real services, then the
  daily job), never set by hand; Budi's completed booking with Bima can still be reviewed.
- A second seed adds nothing."""

import importlib
import io
import logging
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.demo import HISTORY_CUSTOMERS
from accounts.models import User
from bookings.models import Booking, BookingStatus
from bookings.policy import CancelledBy
from companions.levels import Figures, earned_level, policy_in_effect, rules_by_rank
from companions.models import CompanionProfile, Level, LevelChange, LevelStanding, bayesian_rating
from notifications.models import Channel, Delivery, Notification
from payments.models import Payment
from reviews import rules
from reviews.models import Direction, Review

# Committed for real, as in `make run` (the notifications' sends run at each commit).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def reference_data():
    """The cities, activities and languages (companions 0002) and the first level policy (companions
    0007): migration data that an earlier transactional test's flush removed. Both idempotent."""
    importlib.import_module("companions.migrations.0002_seed_reference_data").seed(apps, None)
    if policy_in_effect() is None:
        importlib.import_module("companions.migrations.0007_levels").first_policy(apps, None)


def test_the_demo_of_make_run(settings, capsys, caplog, tmp_path, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # as in `make run`
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    caplog.set_level(logging.INFO)  # as in `make run`, where each in-process task logged a line
    out = io.StringIO()

    call_command("seed_demo", "--force", stdout=out)

    assert_quiet_console_ending_with_the_logins(capsys.readouterr().out + out.getvalue(), caplog)
    assert_reviews_published_and_one_booking_left_to_review()
    assert_levels_earned_by_the_figures()

    before = counts()
    # As in a second `make run`: no email was sent in the process, so there is no mail.outbox (the
    # locmem backend makes it when first used), and the second seed sends none. It failed on that.
    monkeypatch.delattr(mail, "outbox")
    call_command("seed_demo", "--force", "--quiet-logins", stdout=io.StringIO())
    assert counts() == before


def assert_quiet_console_ending_with_the_logins(printed: str, caplog):
    # The seed did send emails (notifications of the demo bookings), they just were not printed.
    assert Delivery.objects.filter(channel=Channel.EMAIL, status=Delivery.Status.SENT).exists()
    assert "Subject:" not in printed and "Content-Type:" not in printed
    assert [record.getMessage() for record in caplog.records if record.name.startswith(("celery", "kombu"))] == []
    lines = [line for line in printed.splitlines() if line.strip()]
    assert lines[-5].startswith("Demo logins (password for all: kompanion-demo)")
    assert lines[-4].split() == ["customer", "pelanggan@kompanion.test"]
    assert lines[-2].split()[:2] == ["admin", "admin@kompanion.test"]
    assert "make totp" in lines[-1]
    assert len(lines) == 7  # the summary, the note on emails, then the logins
    # The customers of the companions' past bookings are not demo logins: the summary says they exist.
    assert not [email for email, _name, _city in HISTORY_CUSTOMERS if email in printed]
    assert "history customers" in lines[0]


def assert_reviews_published_and_one_booking_left_to_review():
    ayu = CompanionProfile.objects.get(slug__startswith="ayu")
    assert ayu.rating_count == 3 and ayu.rating is not None
    assert ayu.completed_recently == 3 and ayu.response_rate == 100  # the reliability job ran too
    assert Review.objects.filter(companion=ayu, published_at__isnull=False).count() == 6
    bima_booking = Booking.objects.get(companion__slug__startswith="bima", status=BookingStatus.COMPLETED)
    assert rules.may_write(bima_booking, bima_booking.customer, timezone.now(), written=set())
    assert not Review.objects.filter(booking=bima_booking).exists()


def assert_levels_earned_by_the_figures():
    now = timezone.now()
    profiles = list(CompanionProfile.objects.select_related("standing"))
    levels = {profile.slug.split("-")[0]: profile.level for profile in profiles}
    assert {Level.BARU, Level.SILVER, Level.GOLD} <= set(levels.values())
    assert levels["jessica"] == Level.GOLD and levels["anisa"] == Level.SILVER
    assert levels["ayu"] == levels["bima"] == Level.BARU  # the demo journeys' companions keep their states

    rules_now = rules_by_rank(policy_in_effect())
    for profile in profiles:
        standing = profile.standing  # the daily job ran for everybody
        assert standing.override_reason == ""  # earned: nobody set a level by hand
        figures = (standing.completed, standing.customers, standing.cancellation_rate, standing.recent_subtotal)
        assert figures == figures_from_bookings(profile, now), profile.slug
        assert earned_level(rules_now, Figures.of(profile, standing)) == profile.level, profile.slug
        assert profile.rating_count == published_reviews(profile).count()
        if profile.level == Level.BARU:
            assert not profile.level_changes.exists()
            continue
        # Its bookings were real ones: by several customers, each paid, completed by the clock after the
        # meeting (escrow released a day after the end), none of them today.
        done = profile.bookings.filter(status=BookingStatus.COMPLETED)
        assert Payment.objects.filter(booking__in=done, status=Payment.Status.PAID).count() == done.count()
        assert all(
            booking.paid_at and booking.complete_after <= booking.closed_at < now - timedelta(days=1)
            for booking in done
        )
        # Promoted by the daily job, once, with the figures it decided on.
        change = profile.level_changes.get()
        assert (change.kind, change.from_level, change.to_level) == (LevelChange.Kind.PROMOTION, "baru", profile.level)
        assert change.created_by is None and change.figures["completed"] == standing.completed
        # The rating the policy reads is the profile's, from the published reviews.
        stars = list(published_reviews(profile).values_list("overall", flat=True))
        assert profile.rating == bayesian_rating(sum(stars), len(stars))
        assert change.figures["rating"] == str(profile.rating)


def published_reviews(profile):
    return Review.objects.filter(
        companion=profile, direction=Direction.OF_COMPANION, published_at__isnull=False, hidden_at__isnull=True
    )


def figures_from_bookings(profile, now) -> tuple:
    """Completed bookings and different customers over 365 days, the companion's cancellations after
    accepting (None below three cases), the subtotals completed over 90 days: from the bookings themselves."""
    year = [
        booking
        for booking in profile.bookings.all()
        if booking.closed_at and booking.closed_at >= now - timedelta(days=365)
    ]
    completed = [booking for booking in year if booking.status == BookingStatus.COMPLETED]
    cancelled = [
        booking
        for booking in year
        if booking.status == BookingStatus.CANCELLED
        and booking.cancelled_by == CancelledBy.COMPANION
        and booking.accepted_at is not None
    ]
    ended = len(completed) + len(cancelled)
    return (
        len(completed),
        len({booking.customer_id for booking in completed}),
        round(100 * len(cancelled) / ended) if ended >= 3 else None,
        sum(booking.subtotal for booking in completed if booking.closed_at >= now - timedelta(days=90)),
    )


def counts() -> dict[str, int]:
    models = (User, Booking, Payment, Review, Notification, LevelChange, LevelStanding)
    return {model.__name__: model.objects.count() for model in models}
