"""Building listed companions quickly for search tests (ORM; the services' own tests cover the flow)."""

from datetime import date

from companions.models import Activity, City, CompanionProfile, SpokenLanguage, VerificationStatus, WeeklyHours
from companions.services import _normalise_week
from tests.factories import CompanionFactory


def listed_companion(
    *,
    city: str = "jakarta",
    ranges=((5, 600, 240),),
    rate: int = 150_000,
    gender: str = "female",
    born: date = date(1998, 5, 17),
    activities=("hangout",),
    languages=("id",),
    name: str = "Ayu",
    bio: str = "Suka ngopi dan jalan-jalan keliling kota. Senang menemani acara dan ngobrol santai.",
    min_hours: int = 1,
    max_hours: int = 12,
    **profile_fields,
) -> CompanionProfile:
    user = CompanionFactory(date_of_birth=born)
    profile = CompanionProfile.objects.create(
        user=user,
        slug=f"{name.lower()}-{user.pk}",
        display_name=name,
        bio=bio,
        city=City.objects.get(slug=city),
        hourly_rate=rate,
        gender=gender,
        min_hours=min_hours,
        max_hours=max_hours,
        **{"verification_status": VerificationStatus.APPROVED, "is_listed": True, **profile_fields},
    )
    profile.activities.set(Activity.objects.filter(slug__in=activities))
    profile.languages.set(SpokenLanguage.objects.filter(code__in=languages))
    WeeklyHours.objects.bulk_create(
        WeeklyHours(profile=profile, weekday=weekday, start_minute=start, length_minutes=length)
        for weekday, start, length in _normalise_week(ranges)
    )
    return profile
