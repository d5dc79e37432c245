"""Reads for booking pages: each function returns rows with everything its page shows already joined
or prefetched, so a page costs the same number of queries whatever the number of bookings."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from bookings import facts
from bookings.models import Booking, BookingEvent, BookingStatus, CalendarFeed
from companions.models import BOOKABLE, CompanionProfile
from core.decorators import is_trusted_staff

# Statuses after which nothing more happens to a booking (besides a dispute on a completed one).
CLOSED_STATUSES = (
    BookingStatus.COMPLETED,
    BookingStatus.DECLINED,
    BookingStatus.WITHDRAWN,
    BookingStatus.EXPIRED,
    BookingStatus.CANCELLED,
    BookingStatus.RESOLVED,
)
# What a companion's calendar (page and ICS feed) shows: paid meetings. Completed (and disputed or
# resolved) ones stay, so last week's calendar does not empty itself once the clock completes them.
CALENDAR_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.DISPUTED, BookingStatus.COMPLETED, BookingStatus.RESOLVED)


def _base() -> QuerySet[Booking]:
    return Booking.objects.select_related("customer", "companion", "companion__user", "companion__city", "activity")


def bookable_profile(slug: str) -> CompanionProfile | None:
    """A listed companion with what the booking page needs (activities, hours and time off for the
    availability engine). None when the profile does not exist or cannot be booked."""
    return (
        CompanionProfile.objects.select_related("user", "city")
        .prefetch_related("activities", "weekly_hours", "time_off")
        .filter(BOOKABLE, slug=slug)
        .first()
    )


def plausible_reference(reference: str) -> bool:
    """Whether `reference` could be a booking's, worth a query (PostgreSQL refuses NUL in text: a query
    would fail, not miss)."""
    return bool(reference) and len(reference) <= 16 and "\x00" not in reference


def booking_for_user(reference: str, user: User) -> Booking | None:
    """The booking if `user` is one of its two parties or staff; None otherwise (the page says 404,
    so a stranger cannot even learn that the reference exists). Events come prefetched, oldest first."""
    if not user.is_authenticated or not plausible_reference(reference):
        return None
    bookings = _base().prefetch_related(
        Prefetch("events", queryset=BookingEvent.objects.select_related("actor").order_by("created_at", "id"))
    )
    if not is_trusted_staff(user):
        bookings = bookings.filter(Q(customer=user) | Q(companion__user=user))
    return bookings.filter(reference=reference).first()


def effective_status(booking: Booking, now: datetime) -> str:
    """The status as the clock sees it: a request or an unpaid booking past its deadline is over even
    if the sweep has not moved it yet (lists show this; the detail page applies the deadline)."""
    if booking.is_overdue(now):
        return BookingStatus.DECLINED if booking.status == BookingStatus.REQUESTED else BookingStatus.EXPIRED
    return booking.status


def companion_reliability(profile: CompanionProfile) -> dict:
    """Cancellations by the companion count against them (shown to customers and admins)."""
    figures = facts.reliability(profile.pk)
    return {"paid_bookings": figures.paid_bookings, "companion_cancellations": figures.companion_cancellations}


# --- Customer ---------------------------------------------------------------------------------------


def customer_bookings(user: User, *, past: bool, now: datetime | None = None) -> QuerySet[Booking]:
    """Upcoming: not ended and still alive (open before its deadline, confirmed or disputed).
    Past: everything else, newest first."""
    now = now or timezone.now()
    bookings = _base().filter(customer=user)
    alive = Booking.objects.filter(end__gt=now).holding(now).values("pk")
    if past:
        return bookings.exclude(pk__in=alive).order_by("-start", "-id")
    return bookings.filter(end__gt=now).holding(now).order_by("start", "id")


# --- Companion --------------------------------------------------------------------------------------


def _with_customer_facts(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """Adds what a companion sees about a customer before accepting: whether their email is verified
    and how many bookings they completed (with anyone)."""
    completed = (
        Booking.objects.filter(customer=OuterRef("customer_id"), status=BookingStatus.COMPLETED)
        .order_by()
        .values("customer_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return bookings.annotate(
        customer_email_verified=Exists(
            EmailAddress.objects.filter(user=OuterRef("customer_id"), email=OuterRef("customer__email"), verified=True)
        ),
        customer_completed=Coalesce(Subquery(completed, output_field=IntegerField()), 0),
    )


class CompanionTab:
    REQUESTS = "requests"
    UPCOMING = "upcoming"
    HISTORY = "history"
    CHOICES = (REQUESTS, UPCOMING, HISTORY)


def _companion_tab(bookings: QuerySet[Booking], tab: str, now: datetime) -> QuerySet[Booking]:
    """Requests: open requests before their deadline. Upcoming: the other bookings holding time that
    have not ended. History: everything else."""
    if tab == CompanionTab.REQUESTS:
        return bookings.holding(now).filter(status=BookingStatus.REQUESTED)
    if tab == CompanionTab.UPCOMING:
        return bookings.holding(now).filter(end__gt=now).exclude(status=BookingStatus.REQUESTED)
    current = Booking.objects.holding(now).filter(Q(status=BookingStatus.REQUESTED) | Q(end__gt=now))
    return bookings.exclude(pk__in=current.values("pk"))


def companion_bookings(profile: CompanionProfile, *, tab: str, now: datetime | None = None) -> QuerySet[Booking]:
    now = now or timezone.now()
    bookings = _with_customer_facts(_companion_tab(_base().filter(companion=profile), tab, now))
    if tab == CompanionTab.REQUESTS:
        return bookings.order_by("response_deadline", "id")  # the most urgent answer first
    if tab == CompanionTab.UPCOMING:
        return bookings.order_by("start", "id")
    return bookings.order_by("-start", "-id")


def companion_open_request_count(profile: CompanionProfile, *, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return _companion_tab(Booking.objects.filter(companion=profile), CompanionTab.REQUESTS, now).count()


@dataclass(frozen=True)
class CalendarDay:
    day: date
    bookings: list[Booking]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def companion_week(profile: CompanionProfile, *, monday: date) -> list[CalendarDay]:
    """Seven days from `monday` in the companion's zone, each with its confirmed (or disputed)
    bookings that start that day. One query."""
    zone = ZoneInfo(profile.time_zone)
    start = datetime.combine(monday, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=zone)
    rows = list(
        _base()
        .filter(companion=profile, status__in=CALENDAR_STATUSES, start__lt=end, end__gt=start)
        .order_by("start", "id")
    )
    days = {monday + timedelta(days=offset): CalendarDay(monday + timedelta(days=offset), []) for offset in range(7)}
    for booking in rows:
        local_day = booking.start.astimezone(zone).date()
        days.get(local_day, days[monday]).bookings.append(booking)
    return list(days.values())


# --- Calendar feed -----------------------------------------------------------------------------------

FEED_HISTORY = timedelta(days=30)


def calendar_feed_for(profile: CompanionProfile) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(profile=profile).first()


def feed_by_token(token: str) -> CalendarFeed | None:
    return CalendarFeed.objects.select_related("profile", "profile__user", "profile__city").filter(token=token).first()


def feed_bookings(profile: CompanionProfile, *, now: datetime | None = None) -> QuerySet[Booking]:
    """Paid meetings (confirmed, and the completed/disputed/resolved ones they became) that ended at most
    30 days ago: what a phone's calendar should show. Requests, unpaid, declined, expired, withdrawn
    and cancelled bookings never appear."""
    now = now or timezone.now()
    return (
        Booking.objects.select_related("customer", "activity")
        .filter(companion=profile, status__in=CALENDAR_STATUSES, end__gte=now - FEED_HISTORY)
        .order_by("start", "id")
    )
