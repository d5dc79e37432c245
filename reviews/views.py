from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bookings import selectors as booking_selectors
from core.errors import add_error_to_form
from reviews import rules, selectors, services
from reviews.errors import ReviewError
from reviews.forms import ReplyForm, ReviewForm, SafetyReportForm
from reviews.models import STAR_FIELDS, Direction, Review


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
                if review.overall <= rules.SAFETY_REPORT_MAX_STARS:
                    # A low review: the page that offers the confidential safety report comes next.
                    messages.success(request, _("Thank you for your review."))
                    return redirect("reviews:write", reference=booking.reference)
                if review.published_at:
                    messages.success(request, _("Thank you. Both reviews are now published."))
                else:
                    messages.success(
                        request, _("Thank you. Your review is published when the other side has written theirs.")
                    )
                return redirect("bookings:detail", reference=booking.reference)
        status = 422
        seen = selectors.booking_reviews(booking, request.user)
    return _page(request, booking, seen, form=form, status=status, now=now)


def _page(
    request: HttpRequest, booking, seen: dict, *, form, status: int, now, reply_form=None, report_form=None
) -> HttpResponse:
    theirs, mine = seen["theirs"], seen["mine"]
    can_reply = theirs is not None and rules.may_reply(theirs, request.user)
    can_report = rules.may_report(mine, request.user, reported=seen["reported"])
    context = {
        "can_report": can_report,
        "report_form": report_form or (SafetyReportForm() if can_report else None),
        "booking": booking,
        "form": form,
        "reply_form": reply_form or (ReplyForm() if can_reply else None),
        "can_reply": can_reply,
        "can_write": rules.may_write(booking, request.user, now, written=seen["written"]),
        "closes_at": rules.window_closes_at(booking),
        "viewer_zone": getattr(request.user, "time_zone", "") or booking.companion.time_zone,
        "other_name": (
            booking.companion.display_name
            if seen["direction"] == Direction.OF_COMPANION
            else booking.customer.get_short_name()
        ),
        **seen,
    }
    return render(request, "reviews/write.html", context, status=status)


def _review_of(request: HttpRequest, reference: str, *, writer_direction: str | None, about: str | None):
    """(booking, review) for a POST about one review of the booking, or 404: the viewer must be a party
    (writing `writer_direction`, when given) and the review (`about` direction, else the viewer's own)
    must exist. Whether they may act on it is the service's rule."""
    booking = booking_selectors.booking_for_user(reference, request.user)
    direction = rules.direction_of(booking, request.user) if booking is not None else None
    if direction is None or (writer_direction is not None and direction != writer_direction):
        raise Http404
    review = Review.objects.filter(booking=booking, direction=about or direction).first()
    if review is None:
        raise Http404
    return booking, review


def _act_on_review(request: HttpRequest, booking, form, action, success: str, form_name: str) -> HttpResponse:
    """Runs `action(cleaned_data)` for a valid form: back to the review page with `success`, or the page
    again (422) with the form's errors and what was typed."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ReviewError as problem:
            add_error_to_form(form, problem)
        else:
            messages.success(request, success)
            return redirect("reviews:write", reference=booking.reference)
    seen = selectors.booking_reviews(booking, request.user)
    page_form = ReviewForm(direction=seen["direction"])
    return _page(request, booking, seen, form=page_form, status=422, now=timezone.now(), **{form_name: form})


@require_POST
@login_required
def reply(request: HttpRequest, reference: str) -> HttpResponse:
    """The companion's one public answer to the customer's published review of this booking."""
    booking, review = _review_of(
        request, reference, writer_direction=Direction.OF_CUSTOMER, about=Direction.OF_COMPANION
    )
    return _act_on_review(
        request,
        booking,
        ReplyForm(request.POST),
        lambda data: services.review_reply(review_id=review.pk, author=request.user, text=data["reply"]),
        _("Your answer is published on your profile."),
        "reply_form",
    )


@require_POST
@login_required
def safety_report(request: HttpRequest, reference: str) -> HttpResponse:
    """The author's confidential report to staff with their own review of 1 or 2 stars."""
    booking, review = _review_of(request, reference, writer_direction=None, about=None)
    return _act_on_review(
        request,
        booking,
        SafetyReportForm(request.POST),
        lambda data: services.safety_report_send(review_id=review.pk, author=request.user, details=data["details"]),
        _("Thank you. Our safety team reads your report within 1 working day."),
        "report_form",
    )
