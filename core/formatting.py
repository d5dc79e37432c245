"""Pure formatting helpers for Indonesian display conventions."""

import phonenumbers

NBSP = "\u00a0"


def format_rupiah(amount: int, *, language: str = "id") -> str:
    separator = "," if language.startswith("en") else "."
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,}".replace(",", separator)
    return f"{sign}Rp{NBSP}{digits}"


def format_rating(value, *, language: str = "id") -> str:
    """A rating to one decimal: 4,8 in Indonesian, 4.8 in English."""
    text = f"{value:.1f}"
    return text if _english(language) else text.replace(".", ",")


def format_basis_points(basis_points: int, *, language: str = "id") -> str:
    """1500 -> "15%", 1250 -> "12,5%" ("12.5%" in English): a share of 10,000, to at most two decimals."""
    whole, rest = divmod(basis_points, 100)
    if not rest:
        return f"{whole}%"
    text = f"{whole}.{rest:02d}".rstrip("0")
    return f"{text if _english(language) else text.replace('.', ',')}%"


def format_phone_national(e164: str) -> str:
    """Groups an Indonesian mobile number the way people write it: 0812-3456-7890."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code != 62:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = "0" + str(number.national_number)
    groups = [national[:4], national[4:8], national[8:]]
    return "-".join(group for group in groups if group)


MONTHS_ID = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]
DAYS_ID = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
DAYS_ID_SHORT = ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"]
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _english(language: str) -> bool:
    return language.startswith("en")


def format_time(moment, *, language: str = "id") -> str:
    """19.00 (id), 7:00 PM (en). `moment` is already in the zone to show."""
    if _english(language):
        hour = moment.hour % 12 or 12
        return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
    return f"{moment.hour:02d}.{moment.minute:02d}"


def format_date(day, *, language: str = "id", weekday: bool = True) -> str:
    """Sabtu, 28 Nov 2026 (id), Sat, 28 Nov 2026 (en)."""
    if _english(language):
        text = f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
        return f"{DAYS_EN[day.weekday()]}, {text}" if weekday else text
    text = f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"
    return f"{DAYS_ID[day.weekday()]}, {text}" if weekday else text


def format_day_short(day, *, today, language: str = "id") -> str:
    """Hari ini / Besok / Sab, 28 Nov (id); Today / Tomorrow / Sat, 28 Nov (en)."""
    from datetime import timedelta

    english = _english(language)
    if day == today:
        return "Today" if english else "Hari ini"
    if day == today + timedelta(days=1):
        return "Tomorrow" if english else "Besok"
    if english:
        return f"{DAYS_EN[day.weekday()]}, {day.day} {MONTHS_EN[day.month - 1]}"
    return f"{DAYS_ID_SHORT[day.weekday()]}, {day.day} {MONTHS_ID[day.month - 1]}"


def format_duration(total_minutes: int, *, language: str = "id") -> str:
    """1 jam 30 menit / 1 hour 30 minutes; minutes only under an hour, hours only on the hour."""
    hours, minutes = divmod(max(0, total_minutes), 60)
    english = _english(language)
    parts = []
    if hours:
        parts.append(f"{hours} {'hour' if hours == 1 else 'hours'}" if english else f"{hours} jam")
    if minutes or not hours:
        parts.append(f"{minutes} {'minute' if minutes == 1 else 'minutes'}" if english else f"{minutes} menit")
    return " ".join(parts)


def format_datetime(moment, *, zone: str, language: str = "id") -> str:
    """Sabtu, 28 Nov 2026, 19.00 WIB (id); Sat, 28 Nov 2026, 7:00 PM WIB (en), in `zone`."""
    from zoneinfo import ZoneInfo

    from core.i18n import TIME_ZONE_ABBREVIATIONS

    local = moment.astimezone(ZoneInfo(zone))
    abbreviation = TIME_ZONE_ABBREVIATIONS.get(zone, zone)
    return f"{format_date(local.date(), language=language)}, {format_time(local, language=language)} {abbreviation}"
