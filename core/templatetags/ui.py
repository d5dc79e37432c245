"""Indonesian display formats (UI.md): money, phones, dates and times. Filters, not locale defaults."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from core import formatting
from core.i18n import TIME_ZONE_ABBREVIATIONS

register = template.Library()


def _language() -> str:
    return get_language() or "id"


@register.filter
def rupiah(amount) -> str:
    """150000 -> "Rp 150.000" (no-break space; English pages use "Rp 150,000")."""
    if amount in (None, ""):
        return ""
    return formatting.format_rupiah(int(amount), language=_language())


@register.filter
def phone_display(e164: str) -> str:
    """+6281234567890 -> 0812-3456-7890."""
    return formatting.format_phone_national(e164) if e164 else ""


@register.filter
def local_time(moment: datetime, zone: str = "Asia/Jakarta") -> str:
    """An aware datetime as wall-clock time in `zone`: "19.00" / "7:00 PM"."""
    if not moment:
        return ""
    return formatting.format_time(moment.astimezone(ZoneInfo(zone)), language=_language())


@register.filter
def local_date(value, zone: str = "Asia/Jakarta") -> str:
    """ "Sabtu, 28 Nov 2026" for an aware datetime (in `zone`) or a date."""
    if not value:
        return ""
    day = value.astimezone(ZoneInfo(zone)).date() if isinstance(value, datetime) else value
    return formatting.format_date(day, language=_language())


@register.filter
def day_label(day: date, zone: str = "Asia/Jakarta") -> str:
    """ "Hari ini", "Besok", else "Sab, 28 Nov" (today as seen in `zone`)."""
    if not day:
        return ""
    today = timezone.localdate(timezone=ZoneInfo(zone))
    return formatting.format_day_short(day, today=today, language=_language())


@register.filter
def zone_abbr(zone: str) -> str:
    """ "Asia/Makassar" -> "WITA"."""
    return TIME_ZONE_ABBREVIATIONS.get(zone, "")


@register.filter
def time_left(moment: datetime, now: datetime | None = None) -> str:
    """Time from `now` until `moment`, rounded down to the minute: "5 jam 12 menit" (UI.md), never
    Django's "5 jam, 12 menit"."""
    if not moment:
        return ""
    minutes = int((moment - (now or timezone.now())).total_seconds() // 60)
    return formatting.format_duration(minutes, language=_language())
