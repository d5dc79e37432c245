"""Demo accounts for `make run`: an admin, customers and companions across eight cities, and the customers
of the companions' past bookings (HISTORY_CUSTOMERS).

Idempotent: users are matched by email and only filled in; avatars are drawn once, locally (no
downloads). Never used in production (the command refuses without DEBUG).
"""

import functools
import hashlib
import io
from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from accounts.models import Role, User
from core.i18n import IndonesianTimeZone

DEMO_PASSWORD = "kompanion-demo"  # noqa: S105 - printed on purpose, demo only
ADMIN_EMAIL = "admin@kompanion.test"
# Base32; shown by `make run` so the demo admin can add it to an authenticator app,
# and used by `manage.py demo_totp` to print the current code.
ADMIN_TOTP_SECRET = "KOMPANIONDEMOADMINTOTPSECRET2345"  # noqa: S105

CITY_TIME_ZONES = {
    "Jakarta": IndonesianTimeZone.WIB,
    "Bandung": IndonesianTimeZone.WIB,
    "Surabaya": IndonesianTimeZone.WIB,
    "Yogyakarta": IndonesianTimeZone.WIB,
    "Semarang": IndonesianTimeZone.WIB,
    "Medan": IndonesianTimeZone.WIB,
    "Denpasar": IndonesianTimeZone.WITA,
    "Makassar": IndonesianTimeZone.WITA,
}

COMPANION_NAMES = [
    ("Ayu Lestari", "F"),
    ("Bima Pratama", "M"),
    ("Citra Maharani", "F"),
    ("Dimas Saputra", "M"),
    ("Eka Putri", "F"),
    ("Fajar Nugroho", "M"),
    ("Gita Permata", "F"),
    ("Hendra Wijaya", "M"),
    ("Indah Sari", "F"),
    ("Joko Santoso", "M"),
    ("Kartika Dewi", "F"),
    ("Lukman Hakim", "M"),
    ("Maya Anggraini", "F"),
    ("Nanda Kurniawan", "M"),
    ("Oktaviani Rahma", "F"),
    ("Putu Ardana", "M"),
    ("Ratna Wulandari", "F"),
    ("Satria Ramadhan", "M"),
    ("Tiara Azzahra", "F"),
    ("Umar Siregar", "M"),
    ("Vina Melati", "F"),
    ("Wahyu Hidayat", "M"),
    ("Yuni Kartika", "F"),
    ("Zaki Firmansyah", "M"),
    ("Anisa Fitri", "F"),
    ("Bayu Aji", "M"),
    ("Dewi Safitri", "F"),
    ("Eko Prasetyo", "M"),
    ("Fitri Handayani", "F"),
    ("Galih Pamungkas", "M"),
    ("Hana Pertiwi", "F"),
    ("Ilham Maulana", "M"),
    ("Jessica Tanoto", "F"),
    ("Kevin Halim", "M"),
    ("Laras Ayuningtyas", "F"),
    ("Made Wirawan", "M"),
    ("Nadia Putri", "F"),
    ("Rizky Febrian", "M"),
    ("Salsabila Nur", "F"),
    ("Teguh Pambudi", "M"),
]

CUSTOMERS = [
    ("pelanggan@kompanion.test", "Rina Pelanggan", "Jakarta"),
    ("budi@kompanion.test", "Budi Setiawan", "Bandung"),
    ("sinta@kompanion.test", "Sinta Maharani", "Denpasar"),
]

# Customers who booked in the past (bookings/demo.py HISTORY), so some companions have earned a level.
# Not among the printed logins, though they can sign in with the demo password like everybody. They
# read their notifications in the app (email notifications off), which spares the seed a hundred emails.
HISTORY_CUSTOMERS = [
    ("andi.wibowo@kompanion.test", "Andi Wibowo", "Jakarta"),
    ("bella.kusuma@kompanion.test", "Bella Kusuma", "Jakarta"),
    ("candra.gunawan@kompanion.test", "Candra Gunawan", "Bandung"),
    ("dinda.paramita@kompanion.test", "Dinda Paramita", "Jakarta"),
    ("erik.susanto@kompanion.test", "Erik Susanto", "Surabaya"),
    ("farah.amalia@kompanion.test", "Farah Amalia", "Jakarta"),
    ("gilang.ramadhan@kompanion.test", "Gilang Ramadhan", "Semarang"),
    ("hesti.purnama@kompanion.test", "Hesti Purnama", "Jakarta"),
    ("irfan.hakim@kompanion.test", "Irfan Hakim", "Medan"),
    ("julia.santika@kompanion.test", "Julia Santika", "Denpasar"),
    ("krisna.adiputra@kompanion.test", "Krisna Adiputra", "Jakarta"),
    ("lina.marlina@kompanion.test", "Lina Marlina", "Yogyakarta"),
    ("mario.tambunan@kompanion.test", "Mario Tambunan", "Makassar"),
]

PALETTE = ["#0F766E", "#0369A1", "#7C3AED", "#B45309", "#BE123C", "#15803D", "#4338CA", "#A21CAF"]


@dataclass(frozen=True)
class DemoCompanion:
    email: str
    full_name: str
    city: str
    gender: str
    date_of_birth: date
    phone: str


def demo_companions() -> list[DemoCompanion]:
    cities = list(CITY_TIME_ZONES)
    companions = []
    for index, (name, gender) in enumerate(COMPANION_NAMES):
        slug = name.lower().split()[0]
        companions.append(
            DemoCompanion(
                email=f"{slug}@kompanion.test",
                full_name=name,
                city=cities[index % len(cities)],
                gender=gender,
                date_of_birth=date(1990 + index % 12, 1 + index % 12, 1 + (index * 7) % 27),
                phone=f"+62812{7000000 + index * 1117:07d}"[:14],
            )
        )
    return companions


def draw_avatar(full_name: str, size: int = 384) -> bytes:
    """A round-cornered tile with the initials, colour picked from the name."""
    digest = hashlib.sha256(full_name.encode()).digest()
    colour = PALETTE[digest[0] % len(PALETTE)]
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    initials = "".join(part[0] for part in full_name.split()[:2]).upper()
    font = ImageFont.load_default(size=size // 3)
    box = draw.textbbox((0, 0), initials, font=font)
    position = ((size - (box[2] - box[0])) / 2 - box[0], (size - (box[3] - box[1])) / 2 - box[1])
    draw.text(position, initials, fill="white", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@functools.cache
def _demo_password_hash() -> str:
    # Hashed once: the default hasher is slow on purpose, and every demo user shares the password.
    return make_password(DEMO_PASSWORD)


def _ensure_user(*, email: str, full_name: str, **fields) -> tuple[User, bool]:
    user, created = User.objects.get_or_create(
        email=email, defaults={"full_name": full_name, "password": _demo_password_hash(), **fields}
    )
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    if not user.avatar:
        user.avatar.save(f"{email}.png", ContentFile(draw_avatar(full_name)), save=True)
    return user, created


@transaction.atomic
def seed_accounts() -> dict[str, int]:
    admin, _ = _ensure_user(
        email=ADMIN_EMAIL,
        full_name="Admin Kompanion",
        is_staff=True,
        is_superuser=True,
        phone="+6281100000001",
        date_of_birth=date(1988, 5, 17),
    )
    if not Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(admin, ADMIN_TOTP_SECRET)

    created = {"customers": 0, "companions": 0}
    for index, (email, name, city) in enumerate(CUSTOMERS):
        _, was_created = _ensure_user(
            email=email,
            full_name=name,
            role=Role.CUSTOMER,
            time_zone=CITY_TIME_ZONES[city],
            phone=f"+6281300000{index + 10:03d}",
            date_of_birth=date(1995, 3 + index, 9),
            # Verified and opted in, so the dev WhatsApp outbox (/dev/outbox/) shows their messages.
            whatsapp_opt_in=True,
            phone_verified_at=timezone.now(),
        )
        created["customers"] += was_created
    for index, (email, name, city) in enumerate(HISTORY_CUSTOMERS):
        _ensure_user(
            email=email,
            full_name=name,
            role=Role.CUSTOMER,
            time_zone=CITY_TIME_ZONES[city],
            date_of_birth=date(1985 + index % 15, 1 + index % 12, 3 + index),
            email_notifications=False,
        )
    for companion in demo_companions():
        _, was_created = _ensure_user(
            email=companion.email,
            full_name=companion.full_name,
            role=Role.COMPANION,
            time_zone=CITY_TIME_ZONES[companion.city],
            phone=companion.phone,
            date_of_birth=companion.date_of_birth,
            whatsapp_opt_in=True,
            phone_verified_at=timezone.now(),
        )
        created["companions"] += was_created
    return created
