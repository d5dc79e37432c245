"""`make run`'s demo: Ayu has a rating from three published reviews; Budi's completed booking with Bima
can still be reviewed; a second seed writes nothing more."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from companions.models import CompanionProfile
from reviews import rules
from reviews.models import Review

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def reference_data():
    importlib.import_module("companions.migrations.0002_seed_reference_data").seed(apps, None)


def test_the_demo_has_published_reviews_and_a_booking_left_to_review(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    call_command("seed_demo", "--force", "--quiet-logins", stdout=io.StringIO())

    ayu = CompanionProfile.objects.get(slug__startswith="ayu")
    assert ayu.rating_count == 3 and ayu.rating is not None
    assert ayu.completed_recently == 3 and ayu.response_rate == 100  # the reliability job ran too
    assert Review.objects.filter(companion=ayu, published_at__isnull=False).count() == 6
    bima_booking = Booking.objects.get(companion__slug__startswith="bima", status=BookingStatus.COMPLETED)
    assert rules.may_write(bima_booking, bima_booking.customer, timezone.now(), written=set())

    call_command("seed_demo", "--force", "--quiet-logins", stdout=io.StringIO())
    assert Review.objects.count() == 6
