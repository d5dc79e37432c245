"""The pages of safety at meetings: check-in, end, "I'm fine", SOS, sharing with the trusted contact (the
booking's two parties only: anyone else gets 404), the trusted-contact settings, and the shared page the
contact opens (no login: the token is the permission; unknown, revoked and expired are the same 404)."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.models import Booking
from core.errors import add_error_to_form
from safety import contacts, meeting
from safety import sos as sos_alerts
from safety.meeting import SafetyError
from safety.meeting_forms import CheckInForm, TrustedContactForm


def _booking(request: HttpRequest, reference: str) -> Booking:
    booking = meeting.party_booking(reference, request.user)
    if booking is None:
        raise Http404
    return booking


def _to_booking(booking: Booking) -> HttpResponse:
    return redirect(f"{reverse('bookings:detail', args=[booking.reference])}#safety-title")


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@sensitive_post_parameters("code")  # never in an error report
@require_POST
@login_required
def check_in(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking(request, reference)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the 4-digit code the customer shows you."))
        return _to_booking(booking)
    try:
        meeting.check_in(booking=booking, user=request.user, code=form.cleaned_data["code"])
    except SafetyError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, _("Checked in: you have met. Have a good time!"))
    return _to_booking(booking)


@require_POST
@login_required
def end(request: HttpRequest, reference: str) -> HttpResponse:
    return _mark(request, reference, meeting.meeting_end, _("Meeting ended. Glad all went well!"))


@require_POST
@login_required
def fine(request: HttpRequest, reference: str) -> HttpResponse:
    return _mark(request, reference, meeting.say_fine, _("Thank you. Good to know you are fine."))


def _mark(request: HttpRequest, reference: str, action, done: str) -> HttpResponse:
    """A one-tap mark on the booking page ("done, all good", "I'm fine"): back to the booking with what happened."""
    booking = _booking(request, reference)
    try:
        action(booking=booking, user=request.user)
    except SafetyError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, done)
    return _to_booking(booking)


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def sos(request: HttpRequest, reference: str) -> HttpResponse:
    """The emergency numbers to call (always), and the button that alerts the safety team and the trusted
    contact (inside the meeting window)."""
    booking = _booking(request, reference)
    now = timezone.now()
    raised = None
    problem = ""
    if request.method == "POST":
        try:
            raised = sos_alerts.sos_raise(booking=booking, user=request.user, now=now)
        except SafetyError as error:
            problem = error.message
    context = {
        "booking": booking,
        "live": meeting.in_window(booking, now),
        "raised": raised,
        "problem": problem,
        "contact": contacts.contact_of(request.user),
    }
    return render(request, "safety/sos.html", context, status=422 if problem else 200)


@require_POST
@login_required
def share(request: HttpRequest, reference: str) -> HttpResponse:
    """Shares the booking with the trusted contact (WhatsApp), and shows the link once, to copy or to send
    with WhatsApp's own share button. Answered here, not redirected: the link is never in a URL of ours."""
    booking = _booking(request, reference)
    try:
        url, contact = contacts.share_with_contact(booking=booking, user=request.user)
    except SafetyError as problem:
        messages.error(request, problem.message)
        return _to_booking(booking)
    text = _("My Kompanion meeting: when, where and with whom. %(url)s") % {"url": url}
    context = {
        "booking": booking,
        "url": url,
        "contact": contact,
        "wa_url": f"https://wa.me/{contact.phone.lstrip('+')}?text={quote(text)}",
    }
    return _private(render(request, "safety/share_done.html", context))


@require_http_methods(["GET", "POST"])
@login_required
def contact_settings(request: HttpRequest) -> HttpResponse:
    current = contacts.contact_of(request.user)
    if request.method == "POST" and request.POST.get("remove"):
        contacts.contact_remove(user=request.user)
        messages.success(request, _("Trusted contact removed."))
        return redirect("safety:contact")
    if request.method == "POST":
        form = TrustedContactForm(request.POST)
        if form.is_valid():
            try:
                contacts.contact_save(user=request.user, **form.cleaned_data)
            except SafetyError as problem:
                add_error_to_form(form, problem)
            else:
                messages.success(request, _("Trusted contact saved."))
                return redirect("safety:contact")
    else:
        initial = {"name": current.name, "phone": current.phone} if current else {}
        form = TrustedContactForm(initial=initial)
    return render(
        request,
        "safety/contact_settings.html",
        {"form": form, "contact": current},
        status=422 if form.errors else 200,
    )


def _not_found() -> HttpResponse:
    # django.request logs every 4xx with its path; this path holds a (maybe once valid) secret token.
    response = HttpResponseNotFound("Not found", content_type="text/plain; charset=utf-8")
    response._has_been_logged = True
    return _private(response)


@sensitive_variables("token")
@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """What a trusted contact sees: the time window, the public meeting place, the other party's first name
    and photo. Nothing else (no phone, email, last name or reference)."""
    link = contacts.link_by_token(token)
    if link is None:
        return _not_found()
    booking = link.booking
    if link.user_id == booking.customer_id:
        other_name = booking.companion.display_name.split()[0] if booking.companion.display_name else ""
        photo = booking.companion.photos.filter(is_cover=True).first()
        photo_url = photo.thumbnail.url if photo and photo.thumbnail else ""
    else:
        other_name = booking.customer.get_short_name()
        photo_url = booking.customer.avatar.url if booking.customer.avatar else ""
    context = {
        "sharer_name": link.user.get_short_name(),
        "other_name": other_name,
        "photo_url": photo_url,
        "start": booking.start,
        "end": booking.end,
        "zone": booking.companion.time_zone,
        "place": booking.meeting_place,
        "expires_at": link.expires_at,
    }
    return _private(render(request, "safety/shared.html", context))
