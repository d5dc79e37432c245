import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from companions import services
from companions.errors import PhotoRejected, ProfileError, ScheduleError, VerificationError
from companions.models import (
    Activity,
    City,
    CompanionProfile,
    IdentityVerification,
    SpokenLanguage,
    VerificationStatus,
    WeeklyHours,
)
from tests.factories import CompanionFactory, CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

BIO = "Suka ngopi, jalan-jalan, dan ngobrol santai. Senang menemani acara kantor dan kondangan."


def jpeg(size=(900, 1100), colour=(15, 118, 110)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return SimpleUploadedFile("x.jpg", buffer.getvalue(), content_type="image/jpeg")


def complete_profile(user=None, *, gender="female") -> CompanionProfile:
    user = user or CompanionFactory(date_of_birth=date(1996, 4, 21))
    profile = services.profile_get_or_create(user=user)
    services.profile_update(
        profile=profile,
        display_name="Ayu",
        bio=BIO,
        city=City.objects.get(slug="bandung"),
        languages=SpokenLanguage.objects.filter(code="id"),
        activities=Activity.objects.filter(slug="hangout"),
        hourly_rate=150_000,
        min_hours=2,
        max_hours=6,
        gender=gender,
    )
    services.photo_add(profile=profile, upload=jpeg())
    services.weekly_hours_replace(profile=profile, ranges=[(5, 600, 240)])
    return profile


def submit(profile, nik="3174016104960001"):
    return services.verification_submit(
        profile=profile, ktp_image=jpeg((1000, 640)), selfie_image=jpeg((800, 1000)), nik=nik
    )


def test_only_companions_get_a_profile():
    with pytest.raises(ProfileError):
        services.profile_get_or_create(user=CustomerFactory())
    companion = CompanionFactory(full_name="Ayu Lestari")
    profile = services.profile_get_or_create(user=companion)
    assert services.profile_get_or_create(user=companion) == profile
    assert profile.slug == "ayu" and not profile.is_listed


def test_slugs_are_unique():
    first = services.profile_get_or_create(user=CompanionFactory(full_name="Ayu A"))
    second = services.profile_get_or_create(user=CompanionFactory(full_name="Ayu B"))
    assert (first.slug, second.slug) == ("ayu", "ayu-2")


def test_rate_outside_the_admin_bounds_is_refused_and_nothing_changes():
    profile = services.profile_get_or_create(user=CompanionFactory())
    with pytest.raises(ProfileError) as caught:
        services.profile_update(
            profile=profile,
            display_name="X",
            bio=BIO,
            city=City.objects.first(),
            languages=[],
            activities=[],
            hourly_rate=10_000,
            min_hours=2,
            max_hours=4,
            gender="male",
        )
    assert caught.value.field == "hourly_rate"
    profile.refresh_from_db()
    assert profile.hourly_rate is None and profile.bio == ""


def test_listed_only_when_complete_verified_and_not_paused():
    staff = StaffFactory()
    profile = complete_profile()
    profile.refresh_from_db()
    assert not profile.is_listed  # not verified yet
    verification = submit(profile)
    profile.refresh_from_db()
    assert profile.verification_status == VerificationStatus.PENDING and not profile.is_listed
    services.verification_approve(verification_id=verification.pk, reviewer=staff)
    profile.refresh_from_db()
    assert profile.is_listed and profile.listed_at is not None
    services.profile_set_paused(profile=profile, paused=True)
    profile.refresh_from_db()
    assert not profile.is_listed
    services.profile_set_paused(profile=profile, paused=False)
    only_photo = profile.photos.get()
    services.photo_delete(profile=profile, photo_id=only_photo.pk)
    profile.refresh_from_db()
    assert not profile.is_listed  # no photo any more


def test_nik_is_encrypted_at_rest_and_shown_masked():
    verification = submit(complete_profile())
    with connection.cursor() as cursor:
        cursor.execute("SELECT nik FROM companions_identityverification WHERE id = %s", [verification.pk])
        raw = cursor.fetchone()[0]
    assert "3174016104960001" not in raw and "6104960001" not in raw
    assert IdentityVerification.objects.get(pk=verification.pk).nik == "3174016104960001"
    assert verification.nik_masked.endswith("0001") and "3174" not in verification.nik_masked


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("317401610496000", "exactly 16 digits"),
        ("31740161049600a1", "exactly 16 digits"),
        ("0574016104960001", "province"),
        ("3174017304960001", "not a real date"),  # day 33 after removing 40
        ("3174016104960000", "not valid"),
        ("3174016204960001", "does not match the date of birth"),
        ("3174012104960001", "does not match the gender"),  # day without +40: a man's NIK
    ],
)
def test_nik_format_is_checked_with_a_clear_message(nik, message):
    from django.utils import translation

    profile = complete_profile()
    with translation.override("en"), pytest.raises(VerificationError) as caught:
        submit(profile, nik=nik)
    assert message in str(caught.value.message)
    assert not IdentityVerification.objects.exists()


def test_a_nik_verified_on_another_account_is_refused():
    staff = StaffFactory()
    first = submit(complete_profile())
    services.verification_approve(verification_id=first.pk, reviewer=staff)
    with pytest.raises(VerificationError):
        submit(complete_profile(CompanionFactory(date_of_birth=date(1996, 4, 21))))


def test_reject_needs_a_reason_then_the_companion_can_resubmit():
    staff = StaffFactory()
    profile = complete_profile()
    verification = submit(profile)
    with pytest.raises(VerificationError):
        submit(profile)  # already pending
    with pytest.raises(VerificationError):
        services.verification_reject(verification_id=verification.pk, reviewer=staff, reason="no")
    services.verification_reject(verification_id=verification.pk, reviewer=staff, reason="The KTP photo is blurry.")
    profile.refresh_from_db()
    assert profile.verification_status == VerificationStatus.REJECTED
    rejected = IdentityVerification.objects.get(pk=verification.pk)
    assert (rejected.reviewed_by, rejected.rejection_reason) == (staff, "The KTP photo is blurry.")
    assert rejected.reviewed_at is not None
    again = submit(profile)
    assert again.status == VerificationStatus.PENDING
    with pytest.raises(VerificationError):
        services.verification_approve(verification_id=verification.pk, reviewer=staff)  # the old one


def test_only_staff_review():
    verification = submit(complete_profile())
    with pytest.raises(VerificationError):
        services.verification_approve(verification_id=verification.pk, reviewer=CustomerFactory())
    assert IdentityVerification.objects.get(pk=verification.pk).status == VerificationStatus.PENDING


def test_at_most_six_photos_and_the_first_is_the_cover():
    profile = services.profile_get_or_create(user=CompanionFactory())
    photos = [services.photo_add(profile=profile, upload=jpeg()) for _ in range(6)]
    assert [photo.is_cover for photo in photos] == [True] + [False] * 5
    with pytest.raises(PhotoRejected):
        services.photo_add(profile=profile, upload=jpeg())
    assert profile.photos.count() == 6
    services.photo_set_cover(profile=profile, photo_id=photos[3].pk)
    assert list(profile.photos.filter(is_cover=True)) == [photos[3]]
    services.photo_delete(profile=profile, photo_id=photos[3].pk)
    assert profile.photos.filter(is_cover=True).count() == 1
    order = list(reversed(profile.photos.order_by("position").values_list("pk", flat=True)))
    services.photo_reorder(profile=profile, ordered_ids=order)
    assert list(profile.photos.order_by("position").values_list("pk", flat=True)) == order


def test_weekly_hours_merge_touching_ranges_and_refuse_overlaps():
    profile = services.profile_get_or_create(user=CompanionFactory())
    services.weekly_hours_replace(profile=profile, ranges=[(0, 9 * 60, 180), (0, 12 * 60, 180), (6, 22 * 60, 120)])
    stored = list(profile.weekly_hours.values_list("weekday", "start_minute", "length_minutes"))
    # Monday 09–12 and 12–15 become 09–15; Sunday 22.00 for 2 h touches Monday 00.00? No: Monday starts at 09.
    assert stored == [(0, 540, 360), (6, 1320, 120)]
    with pytest.raises(ScheduleError):
        services.weekly_hours_replace(profile=profile, ranges=[(4, 20 * 60, 360), (5, 60, 120)])  # Fri 20–02 vs Sat 01
    with pytest.raises(ScheduleError):
        services.weekly_hours_replace(profile=profile, ranges=[(6, 23 * 60, 120), (0, 0, 60), (0, 30, 60)])
    with pytest.raises(ScheduleError):
        services.weekly_hours_replace(profile=profile, ranges=[(1, 10 * 60 + 15, 60)])  # off the half hour
    assert list(profile.weekly_hours.values_list("weekday", "start_minute", "length_minutes")) == stored


def test_a_sunday_night_range_wraps_into_monday():
    profile = services.profile_get_or_create(user=CompanionFactory())
    services.weekly_hours_replace(profile=profile, ranges=[(6, 22 * 60, 120), (0, 0, 120)])
    assert list(
        WeeklyHours.objects.filter(profile=profile).values_list("weekday", "start_minute", "length_minutes")
    ) == [(6, 1320, 240)]


def test_moving_a_photo_swaps_it_with_its_neighbour_and_stops_at_the_ends():
    profile = services.profile_get_or_create(user=CompanionFactory())
    first, second, third = (services.photo_add(profile=profile, upload=jpeg()) for _ in range(3))

    def order():
        return list(profile.photos.order_by("position").values_list("pk", flat=True))

    services.photo_move(profile=profile, photo_id=third.pk, up=True)
    assert order() == [first.pk, third.pk, second.pk]
    services.photo_move(profile=profile, photo_id=first.pk, up=True)  # already first
    assert order() == [first.pk, third.pk, second.pk]
    services.photo_move(profile=profile, photo_id=first.pk, up=False)
    assert order() == [third.pk, first.pk, second.pk]
