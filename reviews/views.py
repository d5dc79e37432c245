from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings import selectors as booking_selectors
from core.errors import add_error_to_form
from reviews import rules, selectors, services
from reviews.errors import ReviewError
from reviews.forms import ReviewForm
from reviews.models import STAR_FIELDS


@login_required
@require_http_methods(["GET", "POST"])
def write(request: HttpRequest, reference: str) -> HttpResponse:
    """A party's review of a completed booking: the form while they may write, then their review and,
    once published, the other side's (as reviews/rules.py lets them see it)."""
    booking = booking_selectors.booking_for_user(reference, request.user)
    if booking is None or rules.direction_of(booking, request.user) is None:
        raise Http404  # staff see bookings, but only the two parties review them
    if rules.window_closes_at(booking) is None:
        raise Http404  # nothing to review before completion
    now = timezone.now()
    services.reviews_publish_due(now=now, booking_id=booking.pk)
    seen = selectors.booking_reviews(booking, request.user)
    form = ReviewForm(request.POST or None, direction=seen["direction"])
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                review = services.review_submit(
                    booking_id=booking.pk,
                    author=request.user,
                    stars={name: data[name] for name in STAR_FIELDS},
                    text=data["text"],
                    now=now,
                )
            except ReviewError as problem:
                add_error_to_form(form, problem)
            else:
                if review.published_at:
                    messages.success(request, _("Thank you. Both reviews are now published."))
                else:
                    messages.success(
                        request, _("Thank you. Your review is published when the other side has written theirs.")
                    )
                return redirect("bookings:detail", reference=booking.reference)
        status = 422
        seen = selectors.booking_reviews(booking, request.user)
    context = {
        "booking": booking,
        "form": form,
        "can_write": rules.may_write(booking, request.user, now, written=seen["written"]),
        "closes_at": rules.window_closes_at(booking),
        "viewer_zone": getattr(request.user, "time_zone", "") or booking.companion.time_zone,
        "other_name": (
            booking.companion.display_name if seen["direction"] == "of_companion" else booking.customer.get_short_name()
        ),
        **seen,
    }
    return render(request, "reviews/write.html", context, status=status)
