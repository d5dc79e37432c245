"""Demo companions for `make run`: complete, verified, listed profiles with photos and weekly hours,
built through the real services (photo pipeline, ID submission and approval). Idempotent."""

import io
import random
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from accounts.demo import ADMIN_EMAIL, PALETTE, demo_companions
from accounts.models import User
from companions import services
from companions.models import Activity, City, CompanionProfile, SpokenLanguage, VerificationStatus

BIOS = [
    "Suka ngopi sambil ngobrol soal buku, film, dan tempat makan enak di {city}. Senang menemani kamu "
    "ke acara atau sekadar jalan sore.",
    "Penggemar olahraga pagi dan kuliner malam. Kenal banyak sudut {city} yang jarang orang tahu, "
    "dari pasar tradisional sampai kafe tersembunyi.",
    "Mahasiswa pascasarjana yang senang belajar bareng dan diskusi. Tenang, sabar, dan tepat waktu. "
    "Cocok untuk teman belajar atau nongkrong santai di {city}.",
    "Gamer santai dan pencinta musik. Bisa jadi teman mabar, nonton konser, atau keliling {city} mencari jajanan enak.",
    "Pendengar yang baik. Kalau kamu butuh teman ngobrol atau teman kondangan di {city}, aku siap "
    "menemani dengan sopan dan ramah.",
]
ACTIVITY_SETS = [
    ("hangout", "culinary"),
    ("event", "talk"),
    ("guide", "culinary", "hangout"),
    ("sports", "hangout"),
    ("study", "talk"),
    ("gaming", "hangout"),
]
LANGUAGE_SETS = [("id",), ("id", "en"), ("id", "jv"), ("id", "su"), ("id", "en", "zh"), ("id", "ban")]
WEEKS = [
    # (weekday, start minute, length minutes)
    [(day, 10 * 60, 8 * 60) for day in range(5)],  # weekdays 10.00–18.00
    [(5, 9 * 60, 10 * 60), (6, 9 * 60, 10 * 60)],  # weekends 09.00–19.00
    [(day, 17 * 60, 5 * 60) for day in range(7)],  # every evening 17.00–22.00
    [(4, 19 * 60, 6 * 60), (5, 19 * 60, 6 * 60)],  # Friday and Saturday nights until 01.00
    [(0, 8 * 60, 4 * 60), (2, 8 * 60, 4 * 60), (4, 13 * 60, 6 * 60), (6, 10 * 60, 6 * 60)],
]


def _picture(text: str, *, colour: str, size: tuple[int, int], subtitle: str = "") -> SimpleUploadedFile:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=min(size) // 4)
    box = draw.textbbox((0, 0), text, font=font)
    draw.text(((size[0] - box[2]) / 2, (size[1] - box[3]) / 2 - min(size) // 10), text, fill="white", font=font)
    if subtitle:
        small = ImageFont.load_default(size=min(size) // 14)
        box = draw.textbbox((0, 0), subtitle, font=small)
        draw.text(((size[0] - box[2]) / 2, size[1] * 0.7), subtitle, fill="white", font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88)
    return SimpleUploadedFile("demo.jpg", buffer.getvalue(), content_type="image/jpeg")


def demo_nik(born: date, gender: str, serial: int) -> str:
    day = born.day + (40 if gender == "female" else 0)
    return f"317401{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def seed_companions() -> int:
    """Completes every demo companion that is not listed yet; returns how many it completed."""
    rng = random.Random(2026)  # the same demo every time  # noqa: S311
    admin = User.objects.get(email=ADMIN_EMAIL)
    activities = {activity.slug: activity for activity in Activity.objects.all()}
    languages = {language.code: language for language in SpokenLanguage.objects.all()}
    completed = 0
    for index, demo in enumerate(demo_companions()):
        user = User.objects.get(email=demo.email)
        profile = services.profile_get_or_create(user=user)
        if profile.is_listed:
            continue
        with transaction.atomic():
            city = City.objects.get(name=demo.city)
            first_name = demo.full_name.split()[0]
            gender = "female" if demo.gender == "F" else "male"
            services.profile_update(
                profile=profile,
                display_name=first_name,
                bio=BIOS[index % len(BIOS)].format(city=city.name),
                city=city,
                languages=[languages[code] for code in LANGUAGE_SETS[index % len(LANGUAGE_SETS)]],
                activities=[activities[slug] for slug in ACTIVITY_SETS[index % len(ACTIVITY_SETS)]],
                hourly_rate=rng.randrange(4, 17) * 25_000,
                min_hours=rng.choice([1, 2, 2, 3]),
                max_hours=rng.choice([4, 6, 8]),
                gender=gender,
            )
            if not profile.photos.exists():
                colour = PALETTE[index % len(PALETTE)]
                initials = "".join(part[0] for part in demo.full_name.split()[:2])
                services.photo_add(profile=profile, upload=_picture(initials, colour=colour, size=(800, 1000)))
            if not profile.weekly_hours.exists():
                services.weekly_hours_replace(profile=profile, ranges=WEEKS[index % len(WEEKS)])
            if profile.verification_status != VerificationStatus.APPROVED:
                verification = services.verification_submit(
                    profile=profile,
                    ktp_image=_picture("KTP", colour="#0369A1", size=(1000, 640), subtitle="DEMO"),
                    selfie_image=_picture("SELFIE", colour="#475569", size=(800, 1000), subtitle="DEMO"),
                    nik=demo_nik(demo.date_of_birth, gender, index + 1),
                )
                services.verification_approve(verification_id=verification.pk, reviewer=admin)
        completed += 1
    # The demo's companions have been on the site for a while: listed "just now" they would be in their
    # first 48 hours, shown to Kompanion Plus members only (early access), and search would look empty.
    month_ago = timezone.now() - timedelta(days=30)
    CompanionProfile.objects.filter(
        user__email__in=[demo.email for demo in demo_companions()], listed_at__gt=month_ago
    ).update(listed_at=month_ago)
    return completed
