"""A companion's bookings as an iCalendar feed (RFC 5545), for their phone's calendar."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from bookings import selectors
from companions.models import CompanionProfile


def ics_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545, 3.3.11): backslash, semicolon, comma and newlines."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def ics_fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545, 3.1), never inside a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current, limit = [], "", 75
    for char in line:
        if len((current + char).encode()) > limit:
            parts.append(current)
            current, limit = char, 74  # continuation lines start with a space
        else:
            current += char
    parts.append(current)
    return "\r\n ".join(parts)


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def calendar_body(profile: CompanionProfile, *, now: datetime, link_for) -> str:
    """The feed's text: the companion's paid meetings (selectors.feed_bookings), summaries in their
    language. `link_for(booking)` gives the absolute URL of a booking's page."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Kompanion//Bookings//ID",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Kompanion",
        f"X-WR-TIMEZONE:{profile.time_zone}",
    ]
    with translation.override(profile.user.preferred_language or settings.LANGUAGE_CODE):
        for booking in selectors.feed_bookings(profile, now=now):
            summary = _("Kompanion: %(activity)s with %(name)s") % {
                "activity": booking.activity.name,
                "name": booking.customer.get_short_name(),
            }
            link = link_for(booking)
            lines += [
                "BEGIN:VEVENT",
                f"UID:{booking.reference}@kompanion.id",
                f"DTSTAMP:{_ics_time(booking.paid_at or booking.created_at)}",
                f"DTSTART:{_ics_time(booking.start)}",
                f"DTEND:{_ics_time(booking.end)}",
                f"SUMMARY:{ics_escape(summary)}",
                f"LOCATION:{ics_escape(booking.meeting_place)}",
                f"DESCRIPTION:{ics_escape(booking.reference + ': ' + link)}",
                f"URL:{link}",
                "STATUS:CONFIRMED",
                "TRANSP:OPAQUE",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(ics_fold(line) + "\r\n" for line in lines)
