"""Demo conversations for `make run`, on the demo bookings (bookings/demo.py, reviews/demo.py), sent through
the real services at the moments they would have been written (before the answer, after payment, on the
day, after the meeting):

- Sinta and Ayu, about Sinta's request that waits for Ayu's answer: Sinta gives her WhatsApp number before
  paying, so Ayu sees it hidden (and has it unread).
- Budi and Bima, about their paid booking: a number sent after payment is shown as written.
- Budi and Bima last week, Rina (pelanggan) and Ayu: the talk around a meeting, read by both.
- Jessica and the customer of her latest past booking: the customer asks to pay outside Kompanion (the
  conversation is flagged for staff) and Jessica reports it (the admin's report queue has one open report).

Idempotent: each message has a key made from its booking and place in the plan, so a second run finds it
(a new booking, such as a fresh request after the old one expired, gets its conversation)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.demo import HISTORY_CUSTOMERS
from bookings.models import Booking, BookingStatus
from chat import services
from chat.models import Conversation, Message, Report

CUSTOMER, COMPANION = "customer", "companion"
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Line:
    by: str  # CUSTOMER or COMPANION
    anchor: str  # the booking's moment it follows: "created_at", "paid_at", "start" or "end"
    after: timedelta  # how long after it (negative: before)
    text: str  # {customer} and {companion}: the parties' first names


@dataclass(frozen=True)
class Plan:
    customer: str  # the customer's email, or "" for a history customer
    companion: str  # the start of the profile's slug
    status: str  # the booking's status; the newest such booking between them
    lines: tuple[Line, ...]
    read_by_both: bool = True  # False: the recipient of the last messages has not opened them yet
    report: dict = field(default_factory=dict)  # reporter, line (the reported one), category, details, after


PLANS = [
    Plan(
        "sinta@kompanion.test",
        "ayu",
        BookingStatus.REQUESTED,
        (
            Line(
                COMPANION,
                "created_at",
                4 * MINUTE,
                "Halo {customer}, salam kenal! Aku cek jadwal dulu ya. "
                "Mau ngopi di tempat yang kamu tulis, atau aku rekomendasikan yang lain?",
            ),  # fmt: skip
            # Before payment: Ayu sees "[nomor disembunyikan]", Sinta what she wrote.
            Line(
                CUSTOMER,
                "created_at",
                9 * MINUTE,
                "Boleh, rekomendasi aja! Biar gampang, WA aku aja ya di 0812 3456 7890.",
            ),  # fmt: skip
        ),
        read_by_both=False,
    ),
    Plan(
        "budi@kompanion.test",
        "bima",
        BookingStatus.CONFIRMED,
        (
            Line(
                COMPANION,
                "paid_at",
                5 * MINUTE,
                "Halo {customer}, terima kasih sudah booking! Sampai ketemu di Kopi Tuku, Grand Indonesia lantai 3 ya.",
            ),  # fmt: skip
            Line(CUSTOMER, "paid_at", 12 * MINUTE, "Siap! Kalau susah cari, telepon aja ke 0813 2222 4444."),
            Line(COMPANION, "paid_at", 15 * MINUTE, "Oke, nomornya aku simpan. Sampai ketemu!"),
        ),
        read_by_both=False,
    ),
    Plan(
        "budi@kompanion.test",
        "bima",
        BookingStatus.COMPLETED,
        (
            Line(
                COMPANION,
                "created_at",
                15 * MINUTE,
                "Halo {customer}! Seru, aku suka Museum Nasional. Mau fokus ke koleksi arca atau keramik?",
            ),  # fmt: skip
            Line(CUSTOMER, "created_at", 20 * MINUTE, "Arca dulu aja, kalau masih sempat lanjut keramik."),
            Line(COMPANION, "start", -20 * MINUTE, "Aku sudah di jalan, sampai lobi sekitar 15 menit lagi ya."),
            Line(CUSTOMER, "end", 2 * 60 * MINUTE, "Makasih banyak {companion}, penjelasannya seru banget!"),
        ),
    ),
    Plan(
        "pelanggan@kompanion.test",
        "ayu",
        BookingStatus.COMPLETED,
        (
            Line(
                COMPANION,
                "created_at",
                10 * MINUTE,
                "Halo {customer}! Untuk tur kulinernya, ada makanan yang nggak bisa kamu makan?",
            ),  # fmt: skip
            Line(CUSTOMER, "created_at", 16 * MINUTE, "Aku nggak kuat pedas, selain itu aman semua."),
            Line(COMPANION, "end", 60 * MINUTE, "Makasih sudah jalan bareng hari ini! Semoga suka martabaknya."),
        ),
    ),
    Plan(
        "",
        "jessica",
        BookingStatus.COMPLETED,
        (
            Line(CUSTOMER, "created_at", 5 * MINUTE, "Halo Kak {companion}! Aku baru pertama kali booking di sini."),
            # A request to pay outside Kompanion: the conversation is flagged for staff.
            Line(
                CUSTOMER,
                "created_at",
                7 * MINUTE,
                "Kak, nanti aku transfer langsung ke rekening Kakak aja ya, biar nggak kena biaya aplikasi.",
            ),  # fmt: skip
            Line(
                COMPANION,
                "created_at",
                20 * MINUTE,
                "Maaf ya {customer}, aku cuma terima pembayaran lewat "
                "Kompanion supaya kita sama-sama terlindungi. Request-nya aku terima sekarang.",
            ),  # fmt: skip
            Line(CUSTOMER, "paid_at", 5 * MINUTE, "Oke Kak, sudah aku bayar lewat aplikasi. Sampai ketemu!"),
        ),
        report={
            "reporter": COMPANION,
            "line": 1,
            "category": "contact",
            "details": "Pelanggan mengajak bayar langsung ke rekening saya, di luar aplikasi. Sudah saya tolak.",
            "after": 25 * MINUTE,  # after the booking's request
        },
    ),
]


def seed_conversations() -> tuple[int, int, int]:
    """Returns (conversations written in, messages sent, reports made) by this run: (0, 0, 0) the second time."""
    now = timezone.now()
    history_emails = [email for email, _name, _city in HISTORY_CUSTOMERS]
    conversations = sent = reports = 0
    for plan in PLANS:
        booking = _booking(plan, history_emails)
        if booking is None:
            continue
        made = _write(booking, plan, now)
        made_report = _report(booking, plan)
        conversations += bool(made or made_report)
        sent += made
        reports += made_report
    return conversations, sent, reports


def _booking(plan: Plan, history_emails: list[str]) -> Booking | None:
    rows = Booking.objects.filter(companion__slug__startswith=plan.companion, status=plan.status)
    if plan.customer:
        rows = rows.filter(customer__email=plan.customer)
    else:
        rows = rows.filter(customer__email__in=history_emails)
    return rows.select_related("customer", "companion__user").order_by("-start", "-pk").first()


def _key(booking: Booking, index: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kompanion-demo-chat:{booking.pk}:{index}")


def _when(booking: Booking, line: Line, *, earliest: datetime, now: datetime) -> datetime:
    """The line's moment, never before the previous line nor in the future (a request made by this very
    seed has its answers "now")."""
    anchor = getattr(booking, line.anchor) or booking.created_at
    return max(earliest, min(anchor + line.after, now))


def _write(booking: Booking, plan: Plan, now: datetime) -> int:
    parties = {CUSTOMER: booking.customer, COMPANION: booking.companion.user}
    names = {"customer": booking.customer.get_short_name(), "companion": booking.companion.user.get_short_name()}
    sent = 0
    at = booking.created_at
    message = None
    for index, line in enumerate(plan.lines):
        at = _when(booking, line, earliest=at, now=now)
        key = _key(booking, index)
        sender = parties[line.by]
        if Message.objects.filter(conversation__booking=booking, sender=sender, client_key=key).exists():
            continue
        message = services.message_send(
            booking=booking, sender=sender, text=line.text.format(**names), client_key=key, now=at
        )
        sent += 1
    if sent and plan.read_by_both and message is not None:
        conversation = Conversation.objects.get(booking=booking)
        for reader in parties.values():
            services.conversation_read(conversation=conversation, reader=reader, upto=message.pk)
    return sent


def _report(booking: Booking, plan: Plan) -> int:
    if not plan.report:
        return 0
    reporter = booking.customer if plan.report["reporter"] == CUSTOMER else booking.companion.user
    if Report.objects.filter(conversation__booking=booking, reporter=reporter).exists():
        return 0
    reported = Message.objects.filter(conversation__booking=booking, client_key=_key(booking, plan.report["line"]))
    message = reported.first()
    if message is None:
        return 0
    services.report_send(
        booking=booking,
        reporter=reporter,
        category=plan.report["category"],
        details=plan.report["details"],
        message_id=message.pk,
        now=max(booking.created_at + plan.report["after"], message.created_at),
    )
    return 1
