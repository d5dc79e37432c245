"""Benchmark data: creates the bench database if missing, migrates it and seeds N companions (20,000 by
default) with bulk inserts; with --bookings (and --reviews), a booking history with published reviews on
top (tests/bench/history.py). Idempotent: a database already holding the same number of bench companions
(and the same history, when one is asked for) is left as it is; a history asked of a database without one
is added; another count, or --reseed, drops and recreates the database first.

Run alone with `python -m tests.bench.seed [--companions N] [--reseed] [--bookings 1000000 --reviews 300000]`;
tests/bench/run.py calls `ensure_seeded`.
Needs DJANGO_SETTINGS_MODULE=config.settings.bench (set by `configure_django`).
"""

import argparse
import os
import random
import time
from datetime import timedelta
from pathlib import Path

EMAIL_DOMAIN = "bench.kompanion.test"
CUSTOMER_EMAIL = "customer@customers.bench.kompanion.test"  # the signed-in visitor of the slot picker
DEFAULT_COMPANIONS = 20_000
BATCH = 2_000
PHOTO_COUNT = 10
DAY = 24 * 60  # minutes
# Big cities carry most of the supply, as they would in production (and give search large candidate sets).
CITY_WEIGHTS = {"jakarta": 30, "bandung": 12, "surabaya": 12, "yogyakarta": 5, "denpasar": 5, "medan": 4}
FIRST_NAMES = (
    "Ayu Putri Dewi Sari Rina Intan Nadia Citra Maya Laras Wulan Tiara "
    "Bima Raka Dimas Fajar Yoga Arif Bayu Rizky Galih Andi Reza Teguh"
).split()
BIO = (
    "Suka ngobrol, kuliner dan jalan-jalan keliling kota. Tepat waktu, ramah, dan senang menemani "
    "acara maupun nongkrong santai. Bisa berbahasa Indonesia dan sedikit bahasa Inggris."
)


def configure_django() -> None:
    """Always the bench settings, whatever the shell says: seeding must never touch the dev database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    import django

    django.setup()


def direct_connection(dbname: str | None = None):
    """A psycopg connection of its own (autocommit), outside Django's, with the default database's credentials:
    to `dbname`, by default the configured database itself."""
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=dbname or database["NAME"],
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        autocommit=True,
        connect_timeout=5,
    )


def ensure_database(*, recreate: bool) -> None:
    """Create the bench database if it is missing; with recreate, drop it first (bench.py guarantees the
    name contains 'bench')."""
    from django.conf import settings
    from django.db import connections
    from psycopg import sql

    name = settings.DATABASES["default"]["NAME"]
    connections.close_all()
    with direct_connection("postgres") as maintenance:
        if recreate:
            maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = maintenance.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"bench: created database {name}")


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def seeded_count() -> int:
    from companions.models import CompanionProfile

    return CompanionProfile.objects.filter(user__email__endswith=f"@{EMAIL_DOMAIN}").count()


def ensure_photo_files() -> list[tuple[str, str, int, int]]:
    """A handful of real JPEGs shared by every bench profile (name, thumbnail name, width, height)."""
    from django.conf import settings
    from PIL import Image, ImageDraw

    folder = Path(settings.MEDIA_ROOT) / "companions" / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for index in range(PHOTO_COUNT):
        name = f"companions/photos/bench-{index:02d}.jpg"
        thumbnail = f"companions/photos/bench-{index:02d}-thumb.jpg"
        width, height = 800, 1000
        if not (Path(settings.MEDIA_ROOT) / thumbnail).exists():
            hue = (index * 37) % 255
            image = Image.new("RGB", (width, height), (hue, 120, 255 - hue))
            ImageDraw.Draw(image).ellipse((200, 200, 600, 600), fill=(255 - hue, 200, hue))
            image.save(Path(settings.MEDIA_ROOT) / name, "JPEG", quality=80)
            image.resize((240, 300)).save(Path(settings.MEDIA_ROOT) / thumbnail, "JPEG", quality=80)
        photos.append((name, thumbnail, width, height))
    return photos


def _weekly_ranges(rng: random.Random) -> list[tuple[int, int, int]]:
    """3–6 non-overlapping (weekday, start minute, length minutes) ranges on 30-minute boundaries: a day
    range on 3–5 weekdays (starting 07:00–14:00, 3–9 hours), plus an evening range on some of those days,
    about a third of which run past midnight (e.g. 20:00 for 6 hours, ending 02:00 the next day)."""
    target = rng.randint(3, 6)
    days = sorted(rng.sample(range(7), min(target, rng.randint(3, 5))))
    evening_days = set(rng.sample(days, target - len(days)))
    ranges = []
    for day in days:
        start = rng.randint(14, 28) * 30
        latest_end = 19 * 60 if day in evening_days else 23 * 60
        length = min(rng.randint(6, 18) * 30, latest_end - start)
        ranges.append((day, start, length))
        if day in evening_days:
            evening = rng.randint((start + length) // 30 + 1, 44) * 30  # from 30 min after, by 22:00
            if rng.random() < 0.35:
                ends_next_day = rng.randint(48, 54) * 30  # 00:00–03:00
                ranges.append((day, evening, ends_next_day - evening))
            else:
                ranges.append((day, evening, rng.randint(2, min(5, (DAY - evening) // 30)) * 30))
    return sorted(ranges)


def seed(*, companions: int, rng_seed: int = 2026) -> None:
    """Bulk-insert `companions` bench companions with profiles, activities, languages, hours, time off
    and one cover photo each. Call on an empty bench database (ensure_seeded arranges that)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from companions.models import (
        Activity,
        City,
        CompanionPhoto,
        CompanionProfile,
        Gender,
        SpokenLanguage,
        TimeOff,
        VerificationStatus,
        WeeklyHours,
    )

    rng = random.Random(rng_seed)
    cities = list(City.objects.order_by("position"))
    city_weights = [CITY_WEIGHTS.get(city.slug, 1) for city in cities]
    activity_ids = list(Activity.objects.filter(is_active=True).values_list("id", flat=True))
    languages = dict(SpokenLanguage.objects.values_list("code", "id"))
    other_languages = [pk for code, pk in languages.items() if code not in ("id", "en")]
    photos = ensure_photo_files()
    password = make_password("bench-password-not-secret")
    now = timezone.now()
    today = timezone.localdate()
    ActivityLink = CompanionProfile.activities.through
    LanguageLink = CompanionProfile.languages.through

    for first in range(0, companions, BATCH):
        numbers = range(first, min(first + BATCH, companions))
        with transaction.atomic():
            users, profiles_data = [], []
            for number in numbers:
                city = rng.choices(cities, weights=city_weights)[0]
                gender = Gender.FEMALE if rng.random() < 0.6 else Gender.MALE
                age_days = rng.randint(18 * 365 + 5, 45 * 365)
                listed_at = now - timedelta(days=rng.uniform(1, 365))
                users.append(
                    User(
                        email=f"companion{number:05d}@{EMAIL_DOMAIN}",
                        full_name=f"{rng.choice(FIRST_NAMES)} Bench {number}",
                        password=password,
                        role=Role.COMPANION,
                        date_of_birth=today - timedelta(days=age_days),
                        time_zone=city.time_zone,
                        date_joined=listed_at - timedelta(days=rng.uniform(0, 14)),
                    )
                )
                profiles_data.append((number, city, gender, listed_at))
            User.objects.bulk_create(users)
            EmailAddress.objects.bulk_create(
                EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
            )
            profiles = []
            for user, (number, city, gender, listed_at) in zip(users, profiles_data, strict=True):
                min_hours = rng.randint(1, 3)
                paused = rng.random() < 0.05
                profiles.append(
                    CompanionProfile(
                        user=user,
                        slug=f"{user.full_name.split()[0].lower()}-{number:05d}",
                        display_name=user.full_name.split()[0],
                        bio=BIO,
                        city=city,
                        hourly_rate=rng.randint(15, 150) * 5_000,  # Rp 75,000–750,000
                        min_hours=min_hours,
                        max_hours=min(12, min_hours + rng.randint(2, 8)),
                        gender=gender,
                        is_paused=paused,
                        verification_status=VerificationStatus.APPROVED,
                        is_listed=not paused,
                        listed_at=listed_at,
                        created_at=user.date_joined,
                    )
                )
            CompanionProfile.objects.bulk_create(profiles)

            activity_links, language_links, hours, time_off, cover_photos = [], [], [], [], []
            for profile in profiles:
                activity_links += [
                    ActivityLink(companionprofile_id=profile.pk, activity_id=pk)
                    for pk in rng.sample(activity_ids, rng.randint(1, 4))
                ]
                spoken = [languages["id"]]
                if rng.random() < 0.5:
                    spoken.append(languages["en"])
                if rng.random() < 0.4:
                    spoken.append(rng.choice(other_languages))
                language_links += [LanguageLink(companionprofile_id=profile.pk, spokenlanguage_id=pk) for pk in spoken]
                hours += [
                    WeeklyHours(profile=profile, weekday=weekday, start_minute=start, length_minutes=length)
                    for weekday, start, length in _weekly_ranges(rng)
                ]
                if rng.random() < 0.1:
                    start_date = today + timedelta(days=rng.randint(0, 30))
                    end_date = start_date + timedelta(days=rng.randint(0, 4))
                    time_off.append(TimeOff(profile=profile, start_date=start_date, end_date=end_date))
                name, thumbnail, width, height = rng.choice(photos)
                cover_photos.append(
                    CompanionPhoto(
                        profile=profile, image=name, thumbnail=thumbnail, width=width, height=height, is_cover=True
                    )
                )
            ActivityLink.objects.bulk_create(activity_links)
            LanguageLink.objects.bulk_create(language_links)
            WeeklyHours.objects.bulk_create(hours)
            TimeOff.objects.bulk_create(time_off)
            CompanionPhoto.objects.bulk_create(cover_photos)
    vacuum_analyze()


def vacuum_analyze() -> None:
    """Planner statistics and a visibility map, as a production database has them (autovacuum): without
    the statistics the first plans are guesses, and without the map an index-only scan still reads the
    table for every row. Autovacuum may be off on a bench machine; on tables already vacuumed this is quick."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def ensure_seeded(
    *, companions: int = DEFAULT_COMPANIONS, reseed: bool = False, bookings: int | None = None, reviews: int = 0
) -> None:
    """Database present, migrated and holding exactly `companions` bench companions; prints what it did.
    With `bookings` (not None), also exactly that booking history with `reviews` published reviews
    (tests/bench/history.py): added on top of the companions if the database has none, otherwise the
    database is recreated; None leaves whatever history the database holds."""
    from tests.bench import history

    started = time.perf_counter()
    ensure_database(recreate=reseed)
    migrate()
    existing = seeded_count()
    wanted = None if bookings is None else (bookings, reviews)
    held = history.history_counts() if existing else (0, 0)
    if existing == companions and not reseed and wanted in (None, held):
        ensure_photo_files()  # BENCH_ROOT may live in a temp dir that was cleaned since
        vacuum_analyze()  # a migration may have added an index since the seed
        print(f"bench: {existing:,} companions already seeded (use --reseed to start over)")
        if any(held):
            print(f"bench: {history.describe_history()}")
        return
    if existing == companions and not reseed and not any(held):
        ensure_photo_files()  # the companions as wanted: the history goes on top
    else:
        if existing:
            print(
                f"bench: database holds {existing:,} bench companions, {held[0]:,} history bookings and "
                f"{held[1]:,} reviews; want {companions:,}"
                + ("" if wanted is None else f", {wanted[0]:,} and {wanted[1]:,}")
                + ": recreating it"
            )
            ensure_database(recreate=True)
            migrate()
        migrated = time.perf_counter()
        seed(companions=companions)
        finished = time.perf_counter()
        print(
            f"bench: seeded {companions:,} companions in {finished - migrated:.1f} s "
            f"(database setup and migrations {migrated - started:.1f} s)"
        )
    if wanted is not None and any(wanted):
        begun = time.perf_counter()
        steps = history.seed_history(bookings=wanted[0], reviews=wanted[1])
        print(
            f"bench: seeded {wanted[0]:,} bookings and {wanted[1]:,} reviews in {time.perf_counter() - begun:.1f} s ("
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
            + ")"
        )
        print(f"bench: {history.describe_history()}")


def ensure_customer():
    """The bench's signed-in customer (created once, kept: an existing database needs no reseed), with a
    verified email as allauth leaves a confirmed sign-up. Returns the user."""
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User

    user, _ = User.objects.get_or_create(
        email=CUSTOMER_EMAIL,
        defaults={
            "full_name": "Bench Customer",
            "role": Role.CUSTOMER,
            "password": make_password("bench-password-not-secret"),
            "time_zone": settings.DEFAULT_USER_TIME_ZONE,
        },
    )
    EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def customer_session_cookie() -> str:
    """A `Cookie:` header value signing the bench customer in: a real session row made by Django's own
    login (django.test.Client.force_login), read by the server like any browser's cookie."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(ensure_customer())
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--companions", type=int, default=DEFAULT_COMPANIONS, help="how many companions to seed")
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument(
        "--bookings",
        type=int,
        default=None,
        help="a booking history of this many bookings (tests/bench/history.py; 1,000,000 for issue 13); "
        "default: none added, an existing one kept",
    )
    parser.add_argument(
        "--reviews", type=int, default=None, help="published reviews on the history's completed bookings (300,000)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    arguments = parser.parse_args()
    configure_django()
    if arguments.reviews and arguments.bookings is None:
        parser.error("--reviews needs --bookings (a review is of a completed booking)")
    ensure_seeded(
        companions=arguments.companions,
        reseed=arguments.reseed,
        bookings=arguments.bookings,
        reviews=arguments.reviews or 0,
    )


if __name__ == "__main__":
    main()
