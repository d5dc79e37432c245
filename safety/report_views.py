"""Report a person: from a listed companion's profile, or from a booking (either party reports the other).
Anyone else (an unlisted profile, someone else's booking, oneself) gets 404."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from bookings.models import Booking
from bookings.selectors import plausible_reference
from companions.models import CompanionProfile
from core.errors import add_error_to_form
from safety import reports
from safety.report_forms import PersonReportForm


def _render_report(request, *, form, reported_name: str, back_url: str, booking=None, status: int = 200):
    context = {
        "form": form,
        "reported_name": reported_name,
        "back_url": back_url,
        "booking": booking,
        "can_stop": "stop_booking" in form.fields,
    }
    return render(request, "safety/report.html", context, status=status)


def _handle(request: HttpRequest, *, reported, reported_name: str, back_url: str, booking=None) -> HttpResponse:
    stop = reports.safety_stop(booking, request.user) if booking is not None else None
    form = PersonReportForm(request.POST or None, stop_label=stop.label if stop else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                reports.report_send(
                    reporter=request.user,
                    reported=reported,
                    category=form.cleaned_data["category"],
                    description=form.cleaned_data["description"],
                    booking=booking,
                    stop_booking=bool(form.cleaned_data.get("stop_booking")),
                )
            except reports.ReportError as problem:
                add_error_to_form(form, problem)
            else:
                flash.success(
                    request, _("Thank you. Our safety team will look into your report and tell you when they have.")
                )
                return redirect(back_url)
        return _render_report(
            request, form=form, reported_name=reported_name, back_url=back_url, booking=booking, status=422
        )
    return _render_report(request, form=form, reported_name=reported_name, back_url=back_url, booking=booking)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def report_profile(request: HttpRequest, slug: str) -> HttpResponse:
    """A listed companion, seen on their public profile; never oneself."""
    profile = (
        CompanionProfile.objects.filter(slug=slug[:100], is_listed=True, user__is_active=True)
        .select_related("user")
        .first()
    )
    if profile is None or profile.user_id == request.user.pk:
        raise Http404
    return _handle(
        request,
        reported=profile.user,
        reported_name=str(profile),
        back_url=reverse("companions:profile", args=[profile.slug]),
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def report_booking(request: HttpRequest, reference: str) -> HttpResponse:
    """The other party of the reporter's own booking."""
    if not plausible_reference(reference):
        raise Http404
    booking = (
        Booking.objects.filter(reference=reference).select_related("customer", "companion", "companion__user").first()
    )
    if booking is None or request.user.pk not in (booking.customer_id, booking.companion.user_id):
        raise Http404
    if request.user.pk == booking.customer_id:
        reported, name = booking.companion.user, str(booking.companion)
    else:
        reported, name = booking.customer, booking.customer.get_short_name()
    return _handle(
        request,
        reported=reported,
        reported_name=name,
        back_url=reverse("bookings:detail", args=[booking.reference]),
        booking=booking,
    )
