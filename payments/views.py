import logging
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings import selectors as booking_selectors
from bookings import services as booking_services
from bookings.errors import BookingBusy, BookingError
from bookings.models import Booking, BookingStatus
from companions.decorators import companion_required
from core import after_commit, metrics, ratelimit
from core.errors import add_error_to_form
from core.forms import Form as CleanForm
from core.http import MalformedBody, limit_body, parse_json, too_large_json
from payments import selectors, services
from payments.errors import PaymentBusy, PaymentError
from payments.forms import BankDetailsForm, PayoutRequestForm
from payments.gateways.simulator import ACTIONS
from payments.midtrans_rules import verify_signature
from payments.models import BankAccount, Payment, Payout, Refund, SimulatorTransaction
from payments.tasks import check_payment_task

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# The status page asks the provider itself at most this often per payment (the webhook is the norm).
STATUS_CHECK_INTERVAL_SECONDS = 30
# The fields every Midtrans notification carries, as strings: without them a body is not a notification.
NOTIFICATION_FIELDS = ("order_id", "status_code", "gross_amount", "signature_key")


def _is_notification(payload) -> bool:
    return isinstance(payload, dict) and all(
        isinstance(payload.get(name), str) and payload.get(name) for name in NOTIFICATION_FIELDS
    )


@csrf_exempt  # signed by Midtrans instead (signature_key); never a browser form
@require_POST
@limit_body(MAX_BODY_BYTES, refuse=too_large_json)  # 413 by Content-Length, before reading a byte
def midtrans_notification(request: HttpRequest) -> JsonResponse:
    """Midtrans' HTTP notification. Answers fast: 200 for anything recorded (including what we
    ignore), 403 for a bad signature, 400 for a body that is not a notification, 429 past the rate
    limit, 503 when the database is busy so Midtrans retries (it retries 5xx up to five times).

    413 means the body is over 64 KB (refused by Content-Length before it is read).
    400 means "this is not a notification": not UTF-8 JSON (or nested deeper than any notification),
    not an object, or without the string fields every notification carries (order_id, status_code,
    gross_amount, signature_key); nothing is recorded.
    403 means "a notification, but not signed by Midtrans": recorded as forged, never applied."""
    try:
        allowed = ratelimit.allow(request, scope="midtrans_webhook", limit=settings.PAYMENT_WEBHOOK_RATE_PER_MINUTE)
    except ratelimit.LimiterUnavailable:  # the cache is down: Midtrans retries a 503
        return JsonResponse({"status": "retry", "reason": "rate limiter unavailable"}, status=503)
    if not allowed:
        return JsonResponse({"status": "error", "reason": "rate limited"}, status=429)
    if request.content_type != "application/json":
        return JsonResponse({"status": "error", "reason": "JSON only"}, status=415)
    try:
        payload, raw_body = parse_json(request.body)
    except MalformedBody:
        return JsonResponse({"status": "error", "reason": "not JSON"}, status=400)
    if not _is_notification(payload):
        return JsonResponse({"status": "error", "reason": "not a notification"}, status=400)
    if not (settings.MIDTRANS_SERVER_KEY and verify_signature(payload, server_key=settings.MIDTRANS_SERVER_KEY)):
        services.payment_record_forged(payload=payload, raw_body=raw_body)
        metrics.webhook_verdict("midtrans", "forged")
        logger.warning("midtrans notification with a bad signature for order %s", str(payload.get("order_id"))[:64])
        return JsonResponse({"status": "error", "reason": "signature"}, status=403)
    try:
        notification = services.payment_apply_notification(payload=payload, raw_body=raw_body)
    except (OperationalError, BookingBusy, PaymentBusy):
        logger.warning("midtrans notification for %s deferred: database busy", str(payload.get("order_id"))[:64])
        return JsonResponse({"status": "retry"}, status=503)
    metrics.webhook_verdict("midtrans", notification.verdict)
    return JsonResponse({"status": "ok", "verdict": notification.verdict})


# --- Customer pages ------------------------------------------------------------------------------------------


def _customer_booking_or_404(request: HttpRequest, reference: str) -> Booking:
    """The booking's own customer only: payment details are theirs (404 for everybody else)."""
    booking = booking_selectors.booking_for_user(reference, request.user)
    if booking is None or booking.customer_id != request.user.pk:
        raise Http404
    return booking


@require_POST
@login_required
def checkout(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _customer_booking_or_404(request, reference)
    finish_url = request.build_absolute_uri(reverse("payments:status", args=[booking.reference]))
    try:
        payment = services.payment_checkout(booking_id=booking.pk, actor=request.user, finish_url=finish_url)
    except (PaymentError, BookingError) as problem:  # BookingBusy included: "many people are booking"
        messages.error(request, problem.message)
        return redirect("bookings:detail", reference=booking.reference)
    return HttpResponseRedirect(payment.redirect_url)


def _status_context(booking: Booking) -> dict:
    payment = selectors.latest_payment(booking)
    refunds = list(selectors.booking_refunds(booking))
    waiting = (
        booking.status == BookingStatus.AWAITING_PAYMENT
        and payment is not None
        and payment.status in (Payment.Status.CREATED, Payment.Status.PENDING, Payment.Status.CHALLENGE)
    )
    return {
        "booking": booking,
        "payment": payment,
        "refunds": refunds,
        "waiting": waiting,
        "confirmed": booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED),
        "can_pay_again": booking.status == BookingStatus.AWAITING_PAYMENT
        and (payment is None or payment.status == Payment.Status.FAILED),
        "receipt": selectors.confirming_payment(booking),
        "now": timezone.now(),  # the payment deadline's countdown
    }


def _maybe_ask_provider(payment: Payment | None) -> None:
    """The customer is looking at the status: if the webhook is late, ask the provider ourselves
    (through the task queue, at most every 30 s per payment)."""
    if payment is None or not payment.is_open:
        return
    if timezone.now() - payment.created_at < timedelta(seconds=STATUS_CHECK_INTERVAL_SECONDS):
        return
    if cache.add(f"payments:status-check:{payment.pk}", 1, STATUS_CHECK_INTERVAL_SECONDS):
        after_commit.enqueue(check_payment_task, payment.pk)


@login_required
@never_cache
@require_GET
def status(request: HttpRequest, reference: str) -> HttpResponse:
    """Where Snap sends the customer back. Says only what we know from Midtrans itself (webhook or
    status API), never what the browser's redirect claims, and refreshes itself while waiting."""
    booking = _customer_booking_or_404(request, reference)
    try:
        if booking_services.booking_apply_deadline(booking_id=booking.pk):  # a passed deadline shows at once
            booking = _customer_booking_or_404(request, reference)
    except BookingBusy:
        pass  # someone else is changing the booking right now: show what we know, the page refreshes
    context = _status_context(booking)
    _maybe_ask_provider(context["payment"])
    if request.htmx:
        return render(request, "payments/status.html#state", context)
    return render(request, "payments/status.html", context)


@login_required
@never_cache
@require_GET
def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _customer_booking_or_404(request, reference)
    payment = selectors.confirming_payment(booking)
    if payment is None:
        raise Http404
    return render(
        request,
        "payments/receipt.html",
        {
            "booking": booking,
            "payment": payment,
            "refunds": [refund for refund in selectors.booking_refunds(booking) if refund.is_done],
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def refund_bank_details(request: HttpRequest, reference: str, refund_id: int) -> HttpResponse:
    booking = _customer_booking_or_404(request, reference)
    refund = Refund.objects.filter(pk=refund_id, booking=booking).first()
    if refund is None:
        raise Http404
    form = BankDetailsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.refund_submit_bank_details(refund_id=refund.pk, actor=request.user, **form.cleaned_data)
        except PaymentError as problem:
            add_error_to_form(form, problem)
        else:
            messages.success(request, _("Thank you. We will transfer your refund within 3 working days."))
            return redirect("payments:status", reference=booking.reference)
    return render(request, "payments/refund_bank_details.html", {"booking": booking, "refund": refund, "form": form})


# --- The dev payment simulator ---------------------------------------------------------------------------------


def _simulator_or_404(request: HttpRequest, order_id: str) -> tuple[SimulatorTransaction, Payment]:
    if settings.PAYMENT_GATEWAY != "simulator":
        raise Http404
    record = SimulatorTransaction.objects.filter(order_id=order_id).first()
    payment = Payment.objects.select_related("booking__companion", "purchase").filter(order_id=order_id).first()
    if record is None or payment is None or payment.payer.pk != request.user.pk:
        raise Http404
    return record, payment


def _status_url(payment: Payment) -> str:
    """Where the payer sees where this payment stands: the booking's payment page or the purchase's page."""
    if payment.purchase_id:
        return reverse("payments:purchase", args=[payment.purchase.reference])
    return reverse("payments:status", args=[payment.booking.reference])


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def simulator(request: HttpRequest, order_id: str) -> HttpResponse:
    """Plays the Midtrans checkout page on `make run` (PAYMENT_GATEWAY=simulator only)."""
    record, payment = _simulator_or_404(request, order_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            delivered = services.simulator_choose(
                order_id=order_id,
                action=action,
                webhook_url=request.build_absolute_uri(reverse("payments:midtrans_notification")),
            )
        except PaymentError as problem:
            messages.error(request, problem.message)
            if action in ACTIONS:  # the checkout is finished or expired: show where the payment stands
                return HttpResponseRedirect(_status_url(payment))
            return redirect("payments:simulator", order_id=order_id)
        if delivered is None:
            messages.info(request, _("Simulator: paid, and the notification was lost on purpose."))
        elif not delivered:
            messages.warning(request, _("Simulator: the notification did not arrive; the status check will find it."))
        if action == "pending_va":
            return redirect("payments:simulator", order_id=order_id)
        return HttpResponseRedirect(record.finish_url or _status_url(payment))
    return render(
        request,
        "payments/simulator.html",
        {
            "record": record,
            "payment": payment,
            "booking": payment.booking,
            "purchase": payment.purchase,
            "status_url": _status_url(payment),
            "expired": record.expires_at <= timezone.now(),
        },
    )


# --- Companion earnings ----------------------------------------------------------------------------------------


class EarningsQuery(CleanForm):
    """The earnings page's one query parameter: ?edit=bank opens the bank account form. Any other value
    is dropped (the page shows as without it)."""

    edit = forms.ChoiceField(choices=[("bank", "bank")], required=False)

    @classmethod
    def editing_bank(cls, query) -> bool:
        form = cls(query)
        return form.is_valid() and form.cleaned_data["edit"] == "bank"


@companion_required
@require_http_methods(["GET", "POST"])
def earnings(request: HttpRequest, profile) -> HttpResponse:
    account = BankAccount.objects.filter(profile=profile).first()
    bank_form = BankDetailsForm(
        prefix="bank", initial={"bank": account.bank, "holder_name": account.holder_name} if account else None
    )
    payout_form = PayoutRequestForm(prefix="payout")
    editing_bank = account is None
    if request.method == "POST":
        if "bank-bank" in request.POST:
            bank_form = BankDetailsForm(request.POST, prefix="bank")
            editing_bank = True
            if bank_form.is_valid():
                try:
                    services.bank_account_save(profile=profile, **bank_form.cleaned_data)
                except PaymentError as problem:
                    add_error_to_form(bank_form, problem)
                else:
                    messages.success(request, _("Bank account saved. New payouts go there."))
                    return redirect("payments:earnings")
        else:
            payout_form = PayoutRequestForm(request.POST, prefix="payout")
            if payout_form.is_valid():
                try:
                    services.payout_request(profile=profile, amount=payout_form.cleaned_data["amount"])
                except PaymentError as problem:
                    add_error_to_form(payout_form, problem)
                else:
                    messages.success(request, _("Payout requested. We usually transfer within 2 working days."))
                    return redirect("payments:earnings")
    payouts = list(selectors.companion_payouts(profile))
    return render(
        request,
        "payments/earnings.html",
        {
            "profile": profile,
            "balances": selectors.companion_balances(profile),
            "lines": selectors.companion_earnings_lines(profile),
            "payouts": payouts,
            "account": account,
            "bank_form": bank_form,
            "payout_form": payout_form,
            "editing_bank": editing_bank or EarningsQuery.editing_bank(request.GET),
            "open_payout": any(payout.status in Payout.OPEN_STATUSES for payout in payouts),
        },
    )
