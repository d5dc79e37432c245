"""Booking pages. Each view parses the request (forms and parsers: a bad query value is dropped with a
note or answered 400, never 500), calls one service (or selector) and renders or redirects. Who may do
what is asked of bookings/rules.py, the rule the services check too; the timeline and the ICS feed are
built in timeline.py and ics.py. Bookings are addressed by their reference (KMP-XXXXXXXX), and anyone
who is not one of the two parties (or staff) gets 404 for every booking URL. Every time is shown in the
viewer's zone (or the meeting's, with the viewer's beside it), labelled."""

import dataclasses
import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from bookings import deadlines, hooks, policy, rules, selectors, services
from bookings import ics as ics_feed
from bookings.errors import BookingBusy, BookingError, SlotTaken, TimeNotBookable
from bookings.forms import (
    NOTE_MAX_LENGTH,
    BookingRequestForm,
    CalendarFeedForm,
    DisputeForm,
    InstantBookingForm,
    ReasonForm,
    parse_hours,
    parse_start,
)
from bookings.models import Booking, BookingStatus
from bookings.pricing import booking_quote, with_discount
from bookings.rules import Action
from bookings.timeline import timeline
from companions import early_access
from companions import selectors as companion_selectors
from companions import services as companion_services
from companions.availability import local_midnight
from companions.decorators import companion_required
from core.decorators import role_required
from core.errors import add_error_to_form
from core.i18n import TIME_ZONE_ABBREVIATIONS

logger = logging.getLogger(__name__)

URGENT_ANSWER = timedelta(hours=1)


# Signed-in customers only: visitors are sent to log in, companions get 403.
customer_required = role_required(Role.CUSTOMER)


def _zone_abbr(zone: str) -> str:
    return TIME_ZONE_ABBREVIATIONS.get(zone, "")


def _viewer_zone(request: HttpRequest) -> str:
    return getattr(request.user, "time_zone", "") or settings.DEFAULT_USER_TIME_ZONE


# --- New booking ------------------------------------------------------------------------------------


def _day_alternatives(profile, start: datetime, hours: int, now: datetime) -> list[datetime]:
    """Free start times on the same local day as `start`, for a second pick after a lost race."""
    zone = ZoneInfo(profile.time_zone)
    day = start.astimezone(zone).date()
    return companion_selectors.free_start_times(
        profile,
        start=local_midnight(day, zone),
        end=local_midnight(day + timedelta(days=1), zone),
        hours=hours,
        now=now,
    )


def _choose_time(request: HttpRequest, profile, *, hours: int, error: str = "", status: int = 200) -> HttpResponse:
    """Step 1: the 14-day strip with free times; each time links back here with ?start=&hours=."""
    zone = profile.time_zone
    context = {
        "profile": profile,
        "hours": hours,
        "hours_choices": list(range(profile.min_hours, profile.max_hours + 1)),
        "days": companion_selectors.free_slots_by_day(profile, days=14, hours=hours),
        "zone": zone,
        "zone_abbr": _zone_abbr(zone),
        "viewer_zone_abbr": _zone_abbr(_viewer_zone(request)),
        "book_url": reverse("bookings:new", args=[profile.slug]),
        "error": error,
    }
    return render(request, "bookings/choose_time.html", context, status=status)


@customer_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest, slug: str) -> HttpResponse:
    # A page to show: the companion's data from the fragment cache when it has it; a booking to write:
    # the fresh row.
    if request.method == "POST":
        profile = selectors.bookable_profile(slug)
    else:
        profile = companion_selectors.bookable_profile_data(slug)
    now = timezone.now()
    # Early access (Kompanion Plus): a companion in their first 48 hours is bookable by members only, as
    # their profile is visible to members only (companions/early_access.py).
    if profile is None or early_access.hidden_from(profile, request.user, now):
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    hours = parse_hours(data.get("hours"), profile=profile)
    # After a lost race the form offers other times; `previous_start` keeps the page if none is picked.
    start_value = data.get("start") or data.get("previous_start")
    if not start_value:
        return _choose_time(request, profile, hours=hours)
    start = parse_start(start_value, zone=profile.time_zone)
    if start is None:
        message = _("That start time is not valid. Please choose one of the free times below.")
        return _choose_time(request, profile, hours=hours, error=message, status=400)
    if start <= now:
        message = _("That time has already passed. Please choose one of the free times below.")
        return _choose_time(request, profile, hours=hours, error=message, status=400)

    status, error = 200, ""
    preview = None  # (price, quote) of the typed code when the request was sent with one
    if request.method == "POST" and "refresh" not in request.POST:
        form = BookingRequestForm(request.POST, profile=profile)
        if form.is_valid():
            values = form.cleaned_data
            if values.get("promo_code"):
                # A code sent with the request is a code check too (behind the same rate limit), so codes
                # cannot be enumerated by sending requests; the page below shows this same preview.
                preview = _discount_view(
                    request,
                    profile,
                    form,
                    start=start,
                    hours=hours,
                    now=now,
                    price=booking_quote(profile=profile, hours=hours),
                )
            if preview is not None and getattr(preview[1], "limited", False):
                form.add_error("promo_code", preview[1].reason)
                status = 429
            else:
                try:
                    booking = services.booking_request(
                        customer=request.user,
                        profile=profile,
                        start=values["start"],
                        hours=values["hours"],
                        activity=values["activity"],
                        meeting_place=values["meeting_place"],
                        note=values["note"],
                        promo_code=values.get("promo_code", ""),
                    )
                except SlotTaken as taken:
                    status, error = 409, taken.message
                except TimeNotBookable as never_free:
                    # Never free (outside the hours, too far ahead...): say why, offer that day's free times.
                    status, error = 422, never_free.message
                except BookingBusy as busy:
                    status, error = 503, busy.message
                except BookingError as problem:
                    add_error_to_form(form, problem)
                    status = 422
                else:
                    if booking.status == BookingStatus.AWAITING_PAYMENT:
                        # "Book and pay": straight on to the payment. A 307 repeats this POST (with its CSRF
                        # token) to the booking's pay action, which opens the checkout; if it cannot, it
                        # comes back to the booking page with the reason.
                        messages.success(request, _("Reserved for you! Pay before the deadline to confirm it."))
                        return HttpResponseRedirect(reverse("payments:checkout", args=[booking.reference]), status=307)
                    messages.success(
                        request, _("Request sent to %(name)s. We'll tell you when they answer.") % {"name": profile}
                    )
                    return redirect("bookings:detail", reference=booking.reference)
        else:
            status = 422
    else:
        # First view, or "Update price" after changing the hours: keep what was typed, show no errors.
        initial = {"start": start_value, "hours": hours}
        if request.method == "POST":
            keys = ("activity", "meeting_place", "note", "safety", "promo_code")
            initial.update({key: request.POST.get(key, "") for key in keys})
        elif len(profile.activities.all()) == 1:
            initial["activity"] = profile.activities.all()[0].slug
        form = BookingRequestForm(initial=initial, profile=profile)

    free = start in companion_selectors.free_start_times(
        profile, start=start, end=start + timedelta(microseconds=1), hours=hours, now=now
    )
    alternatives: list[datetime] = []
    if not free or status == 409:
        alternatives = [moment for moment in _day_alternatives(profile, start, hours, now) if moment != start]
        if not free and not error:
            # The same answer the service gives: why the schedule rules the time out, or "just taken".
            refusal = services.booking_time_refusal(
                profile=profile, start=start, hours=hours, now=now, viewer_zone=_viewer_zone(request)
            )
            status, error = (409 if isinstance(refusal, SlotTaken) else 422), refusal.message
    context = _new_context(request, profile, form, start=start, hours=hours, now=now, preview=preview)
    # "Apply" on the promo code: focus goes back to the code field after the swap.
    context["promo_checked"] = request.method == "POST" and "promo_check" in request.POST
    # `taken`: the chosen time cannot be used, so the page offers that day's other free times instead.
    taken = status == 409 or not free
    context.update({"error": error, "status": status, "taken": taken, "alternatives": alternatives})
    return render(request, "bookings/new.html", context, status=status)


def _discount_view(request, profile, form, *, start: datetime, hours: int, now: datetime, price):
    """What the page shows of a discount (issue 16): a membership's part (Kompanion Plus, issue 17) and the
    typed code's, or else the welcome discount of a first booking, asked of products and promotions through
    bookings/hooks.py (nothing is reserved here), as booking_request combines them. Returns the price with the
    whole discount, the quote (None without promotions) and the membership's part (0 without)."""
    code = str(form["promo_code"].value() or "")[:64]  # what was typed, bounded; the service cleans it
    slug = form["activity"].value()
    activity = next((item for item in profile.activities.all() if item.slug == slug), None)
    member = hooks.member_discount(customer=request.user, price=price, now=now)
    member_part = member.discount if member is not None else 0
    quote = hooks.discount_quote(
        customer=request.user,
        profile=profile,
        activity=activity,
        start=start,
        hours=hours,
        code=code,
        now=now,
        member_discount=member_part,
    )
    # With a code that does not apply, the figures are those of the request without it (the reason says why).
    if quote is not None and (quote.discount or member_part):
        price = dataclasses.replace(price, discount=member_part + quote.discount, total=quote.total)
    elif member_part:
        price = with_discount(price, member_part)
    return price, quote, member_part


def _new_context(request, profile, form, *, start: datetime, hours: int, now: datetime, preview=None) -> dict:
    zone = profile.time_zone
    viewer_zone = _viewer_zone(request)
    instant = profile.instant_booking
    price, promo, member_part = preview or _discount_view(
        request, profile, form, start=start, hours=hours, now=now, price=booking_quote(profile=profile, hours=hours)
    )
    notice = policy.customer_full_refund_notice(request.user, booked_at=now, now=now)
    return {
        "profile": profile,
        "form": form,
        "start": start,
        "end": start + timedelta(hours=hours),
        "hours": hours,
        "zone": zone,
        "zone_abbr": _zone_abbr(zone),
        "viewer_zone": viewer_zone,
        "viewer_zone_abbr": _zone_abbr(viewer_zone),
        "show_viewer_zone": viewer_zone != zone,
        "quote": price,
        "promo": promo,
        "member_discount": member_part,  # Kompanion Plus: its own line in the price breakdown
        # If the booking were made now: the same functions the services store and settle with.
        "policy_tiers": policy.cancellation_tiers(start=start, now=now, full_refund_notice=notice),
        "policy_member": notice < policy.FULL_REFUND_NOTICE,  # a membership's shorter notice (Plus)
        "response_deadline": rules.response_deadline(requested_at=now, start=start),
        "payment_deadline": rules.payment_deadline(accepted_at=now, start=start),
        "instant": instant,
        "note_max_length": NOTE_MAX_LENGTH,
        "profile_url": reverse("companions:profile", args=[profile.slug]),
        "time_url": f"{reverse('bookings:new', args=[profile.slug])}?hours={hours}",
    }


# --- Customer's list --------------------------------------------------------------------------------


@customer_required
@require_GET
def booking_list(request: HttpRequest) -> HttpResponse:
    tab = "past" if request.GET.get("tab") == "past" else "upcoming"
    now = timezone.now()
    bookings = list(selectors.customer_bookings(request.user, past=tab == "past", now=now)[:100])
    for booking in bookings:
        booking.shown_status = selectors.effective_status(booking, now)
    url = reverse("bookings:list")
    context = {
        "tab": tab,
        "tab_links": [("upcoming", _("Upcoming"), url), ("past", _("Past"), f"{url}?tab=past")],
        "bookings": bookings,
        "viewer_zone": _viewer_zone(request),
    }
    return render(request, "bookings/list.html", context)


# --- Detail and actions -----------------------------------------------------------------------------


def _booking_or_404(request: HttpRequest, reference: str) -> Booking:
    booking = selectors.booking_for_user(reference, request.user)
    if booking is None:
        raise Http404
    return booking


def _party_booking_or_404(request: HttpRequest, reference: str) -> Booking:
    """For actions: only the two parties. Staff see every booking but act through the admin."""
    booking = _booking_or_404(request, reference)
    if request.user.pk not in (booking.customer_id, booking.companion.user_id):
        raise Http404
    return booking


def _detail_context(request: HttpRequest, booking: Booking) -> dict:
    now = timezone.now()
    role = rules.role_of(booking, request.user) or rules.Role.STAFF
    actions = rules.available_actions(booking, request.user, now)
    zone = booking.companion.time_zone
    viewer_zone = _viewer_zone(request)
    status = booking.status
    waiting_on_other = (status == BookingStatus.REQUESTED and role == rules.Role.CUSTOMER) or (
        status == BookingStatus.AWAITING_PAYMENT and role == rules.Role.COMPANION
    )
    payment = hooks.payment_summary(booking) if role == rules.Role.CUSTOMER else {"refunds": [], "receipt": None}
    return {
        "booking": booking,
        "role": role,
        "now": now,
        # An erased companion's profile has no display name left: "former user", as for a customer.
        "companion_name": booking.companion.user.get_short_name()
        if booking.companion.user.erased_at
        else booking.companion.display_name,
        "customer_name": booking.customer.get_short_name(),
        # The Plus badge the companion sees beside the customer (products, through bookings/hooks.py).
        "customer_plus": role == rules.Role.COMPANION
        and booking.customer_id in hooks.member_ids([booking.customer_id], now=now),
        "zone": zone,
        "zone_abbr": _zone_abbr(zone),
        "viewer_zone": viewer_zone,
        "viewer_zone_abbr": _zone_abbr(viewer_zone),
        "show_viewer_zone": viewer_zone != zone,
        "steps": timeline(booking),
        "urgent": status == BookingStatus.REQUESTED and booking.response_deadline - now < URGENT_ANSWER,
        # Every button from the one rule (bookings/rules.py) the services check too.
        "actions": actions,
        "can_accept": Action.ACCEPT in actions,
        "can_decline": Action.DECLINE in actions,
        "can_withdraw": Action.WITHDRAW in actions,
        "can_pay": Action.PAY in actions,
        "can_cancel": Action.CANCEL in actions,
        "can_dispute": Action.DISPUTE in actions,
        "is_active": status in (BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMED, BookingStatus.DISPUTED),
        # Poll only while the viewer waits for the other side; their own turn has forms that must not
        # be swapped away under their fingers. The answer without the trigger stops the polling.
        "poll": waiting_on_other,
        "profile_url": reverse("companions:profile", args=[booking.companion.slug]),
        "decline_form": ReasonForm(label=_("Reason (the customer sees it)")),
        # The customer's payment card: refunds with their state, and the receipt once paid.
        "refunds": payment["refunds"],
        "receipt": payment["receipt"],
        # The reviews card, for the two parties of a completed booking (reviews registers it).
        "review": hooks.review_summary(booking=booking, user=request.user, now=now),
        # The safety card (safety/, through bookings/hooks.py): check-in code, share, "I'm fine", SOS.
        "safety": hooks.safety_card(booking=booking, user=request.user, now=now),
    }


@login_required
@never_cache
@require_GET
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking_or_404(request, reference)
    if deadlines.booking_apply_deadline(booking_id=booking.pk):
        booking = _booking_or_404(request, reference)
    if request.htmx and request.htmx.target == "booking-status":
        if request.GET.get("shown") != booking.status:
            # The status moved on: the whole page (actions, timeline) changes, so reload it.
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "bookings/detail.html#status", _detail_context(request, booking))
    return render(request, "bookings/detail.html", _detail_context(request, booking))


def _back(request: HttpRequest, booking: Booking) -> HttpResponse:
    """Where an action returns: a local `next` (the companion's inbox) or the booking page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        if target.startswith("/") and not target.startswith("//"):
            return redirect(target)
    return redirect("bookings:detail", reference=booking.reference)


def _act(request: HttpRequest, booking: Booking, action, success: str, **kwargs) -> HttpResponse:
    try:
        action(booking_id=booking.pk, **kwargs)
    except BookingError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, success)
    return _back(request, booking)


@require_POST
@login_required
def accept(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _party_booking_or_404(request, reference)
    return _act(
        request,
        booking,
        services.booking_accept,
        _("Accepted. The customer has 1 hour to pay; we'll let you know when it is confirmed."),
        actor=request.user,
    )


@require_POST
@login_required
def decline(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _party_booking_or_404(request, reference)
    form = ReasonForm(request.POST)
    if not form.is_valid():  # e.g. a reason over the length limit: say so, change nothing
        messages.error(request, " ".join(form.errors.get("reason", [_("Check the reason and try again.")])))
        return _back(request, booking)
    return _act(
        request,
        booking,
        services.booking_decline,
        _("Request declined."),
        actor=request.user,
        reason=form.cleaned_data["reason"],
    )


@require_POST
@login_required
def withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _party_booking_or_404(request, reference)
    return _act(request, booking, services.booking_withdraw, _("Request withdrawn."), actor=request.user)


def _cancel_form(request: HttpRequest, booking: Booking) -> ReasonForm:
    required = rules.cancel_reason_min_length(booking, request.user)
    label = _("Why do you cancel? (the customer sees it)") if required else _("Reason")
    return ReasonForm(request.POST or None, required_length=required, label=label)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _party_booking_or_404(request, reference)
    form = _cancel_form(request, booking)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.booking_cancel(booking_id=booking.pk, actor=request.user, reason=form.cleaned_data["reason"])
            except BookingError as problem:
                add_error_to_form(form, problem)
            else:
                messages.success(request, _("The booking is cancelled."))
                return redirect("bookings:detail", reference=booking.reference)
        status = 422
    now = timezone.now()
    actions = rules.available_actions(booking, request.user, now)
    by = policy.cancelled_by(booking, request.user)
    viewer_zone = _viewer_zone(request)
    notice = policy.booking_full_refund_notice(booking, now=now)  # the customer's: the policy shown is theirs
    context = {
        "booking": booking,
        "form": form,
        "by": by,
        "paid": booking.status == BookingStatus.CONFIRMED,
        "settlement": policy.cancellation_preview(booking, by=by, now=now),
        "policy_tiers": policy.cancellation_tiers(start=booking.start, now=now, full_refund_notice=notice),
        "policy_member": notice < policy.FULL_REFUND_NOTICE,
        "zone": booking.companion.time_zone,
        "zone_abbr": _zone_abbr(booking.companion.time_zone),
        "viewer_zone": viewer_zone,
        "allowed": Action.CANCEL in actions,
        "refusal": actions.reason(Action.CANCEL),
    }
    return render(request, "bookings/cancel.html", context, status=status)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def dispute(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _party_booking_or_404(request, reference)
    form = DisputeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.booking_dispute(booking_id=booking.pk, actor=request.user, reason=form.cleaned_data["reason"])
            except BookingError as problem:
                add_error_to_form(form, problem)
            else:
                messages.success(
                    request, _("Your dispute is open. Our team will contact you both within 1 working day.")
                )
                return redirect("bookings:detail", reference=booking.reference)
        status = 422
    actions = rules.available_actions(booking, request.user, timezone.now())
    context = {
        "booking": booking,
        "form": form,
        "zone": booking.companion.time_zone,
        "viewer_zone": _viewer_zone(request),
        "allowed": Action.DISPUTE in actions,
    }
    return render(request, "bookings/dispute.html", context, status=status)


# --- Companion ---------------------------------------------------------------------------------------


@companion_required
@require_GET
def requests_inbox(request: HttpRequest, profile) -> HttpResponse:
    tab = request.GET.get("tab")
    if tab not in selectors.CompanionTab.CHOICES:
        tab = selectors.CompanionTab.REQUESTS
    now = timezone.now()
    bookings = list(selectors.companion_bookings(profile, tab=tab, now=now)[:100])
    for booking in bookings:
        booking.shown_status = selectors.effective_status(booking, now)
        booking.urgent = booking.status == BookingStatus.REQUESTED and booking.response_deadline - now < URGENT_ANSWER
        actions = rules.available_actions(booking, request.user, now)  # the one rule, as on the booking page
        booking.can_accept, booking.can_decline = Action.ACCEPT in actions, Action.DECLINE in actions
    # What other companions wrote of each customer asking: shown here only, to the companion asked.
    reviews_of = hooks.customer_reviews(
        sorted({booking.customer_id for booking in bookings if booking.status == BookingStatus.REQUESTED})
    )
    # The Plus badge on each request: one query for the whole list (products, through bookings/hooks.py).
    members = hooks.member_ids([booking.customer_id for booking in bookings], now=now)
    for booking in bookings:
        booking.customer_reviews = reviews_of.get(booking.customer_id)
        booking.customer_plus = booking.customer_id in members
    request_count = (
        len(bookings)
        if tab == selectors.CompanionTab.REQUESTS
        else selectors.companion_open_request_count(profile, now=now)
    )
    url = reverse("bookings:requests")
    context = {
        "profile": profile,
        "tab": tab,
        "tab_links": [
            (selectors.CompanionTab.REQUESTS, _("Requests (%(count)d)") % {"count": request_count}, url),
            (selectors.CompanionTab.UPCOMING, _("Upcoming"), f"{url}?tab=upcoming"),
            (selectors.CompanionTab.HISTORY, _("History"), f"{url}?tab=history"),
        ],
        "bookings": bookings,
        "request_count": request_count,
        "zone": profile.time_zone,
        "zone_abbr": _zone_abbr(profile.time_zone),
        "viewer_zone": _viewer_zone(request),
        "now": now,
        "decline_form": ReasonForm(label=_("Reason (the customer sees it)")),
    }
    return render(request, "bookings/requests.html", context)


def _parse_week(value: str | None, today: date) -> tuple[date, str]:
    """The Monday of the asked week, and a note when the asked value was dropped (not a date, or over
    three years away, beyond which nobody plans and datetime's limits lurk): then this week."""
    if not value:
        return selectors.week_start(today), ""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return selectors.week_start(today), _("That week could not be read, so this week is shown.")
    if abs((day - today).days) > 3 * 366:
        return selectors.week_start(today), _("That week is too far away, so this week is shown.")
    return selectors.week_start(day), ""


@companion_required
@require_GET
def calendar(request: HttpRequest, profile) -> HttpResponse:
    zone = profile.time_zone
    today = timezone.localdate(timezone=ZoneInfo(zone))
    monday, week_note = _parse_week(request.GET.get("week"), today)
    feed = selectors.calendar_feed_for(profile)
    feed_url = request.build_absolute_uri(reverse("bookings:ics", args=[feed.token])) if feed else ""
    context = {
        "profile": profile,
        "days": selectors.companion_week(profile, monday=monday),
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "previous_week": (monday - timedelta(days=7)).isoformat(),
        "next_week": (monday + timedelta(days=7)).isoformat(),
        "this_week": selectors.week_start(today),
        "today": today,
        "zone": zone,
        "zone_abbr": _zone_abbr(zone),
        "feed": feed,
        "feed_url": feed_url,
        "webcal_url": feed_url.replace("https://", "webcal://", 1).replace("http://", "webcal://", 1),
        "week_note": week_note,
    }
    response = render(request, "bookings/calendar.html", context)
    # The page holds the secret feed URL. (No "Referrer-Policy: no-referrer" here: browsers then send
    # "Origin: null" with the page's forms, which CSRF protection rightly refuses.)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@companion_required
def calendar_feed(request: HttpRequest, profile) -> HttpResponse:
    form = CalendarFeedForm(request.POST)
    if form.is_valid() and form.cleaned_data["action"] == "create":
        services.calendar_feed_create(profile=profile)
        messages.success(request, _("Your calendar link is ready. Add it to your phone's calendar."))
    elif form.is_valid():
        services.calendar_feed_revoke(profile=profile)
        messages.success(request, _("The calendar link no longer works. Create a new one whenever you like."))
    else:
        messages.error(request, _("Something went wrong. Please try again."))
    return redirect("bookings:calendar")


@require_POST
@companion_required
def instant_booking(request: HttpRequest, profile) -> HttpResponse:
    form = InstantBookingForm(request.POST)
    enabled = form.is_valid() and form.cleaned_data["enabled"]
    companion_services.profile_set_instant_booking(profile=profile, enabled=enabled)
    if enabled:
        messages.success(request, _("Instant booking is on: customers book free times without waiting for you."))
    else:
        messages.success(request, _("Instant booking is off: you accept or decline each request."))
    return redirect("companions:dashboard")


# --- ICS feed ----------------------------------------------------------------------------------------


def _not_found_unlogged() -> HttpResponse:
    # django.request logs every 4xx with its path; this path holds a (maybe once valid) secret token.
    response = HttpResponseNotFound("Not found", content_type="text/plain; charset=utf-8")
    response._has_been_logged = True
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def ics(request: HttpRequest, token: str) -> HttpResponse:
    feed = selectors.feed_by_token(token) if len(token) <= 64 else None
    if feed is None:
        return _not_found_unlogged()
    body = ics_feed.calendar_body(
        feed.profile,
        now=timezone.now(),
        link_for=lambda booking: request.build_absolute_uri(reverse("bookings:detail", args=[booking.reference])),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="kompanion.ics"'
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
