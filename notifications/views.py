import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from twilio.request_validator import RequestValidator

from accounts.forms import PhoneVerificationCodeForm
from core import metrics, ratelimit
from core.errors import add_error_to_form
from core.forms import clean_text
from core.http import limit_body
from notifications import phone_codes, selectors, services
from notifications.errors import PhoneVerificationError
from notifications.models import OutboxMessage

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio's callbacks are a few hundred bytes of form fields.
MAX_TWILIO_BODY_BYTES = 16 * 1024
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _twilio_signed(request: HttpRequest) -> bool:
    """X-Twilio-Signature over the exact public URL and the form fields (HMAC-SHA1 with the auth token)."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not (settings.TWILIO_AUTH_TOKEN and signature):
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return validator.validate(request.build_absolute_uri(), request.POST.dict(), signature)


def _twilio_webhook(handler):
    def view(request: HttpRequest) -> HttpResponse:
        # The body is already read, within MAX_TWILIO_BODY_BYTES (limit_body below). Twilio posts a form:
        # anything else, or a form Django refuses to parse (too many fields), cannot be checked against
        # a signature, so it is refused plainly before that.
        if request.content_type != FORM_CONTENT_TYPE:
            return HttpResponse("Form posts only.", status=415, content_type="text/plain; charset=utf-8")
        try:
            request.POST  # noqa: B018 (parsed here, so a refusal is ours and not Django's HTML 400 page)
        except (TooManyFieldsSent, RequestDataTooBig):
            return HttpResponse("Malformed form.", status=400, content_type="text/plain; charset=utf-8")
        if not _twilio_signed(request):
            metrics.webhook_verdict("twilio", "forged")
            # Only refused requests count against the limit: genuine callbacks (Twilio does not retry
            # a 429 on them) always get through, a forger is slowed down.
            try:
                allowed = ratelimit.allow(
                    request, scope="twilio_webhook", limit=settings.TWILIO_WEBHOOK_RATE_PER_MINUTE
                )
            except ratelimit.LimiterUnavailable:  # the cache is down: refuse for now (Twilio retries a 503)
                return HttpResponse(status=503)
            if not allowed:
                return HttpResponse(status=429)
            logger.warning("twilio callback with a bad signature refused")
            return HttpResponse(status=403)
        handler(request)
        metrics.webhook_verdict("twilio", "accepted")
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return csrf_exempt(require_POST(limit_body(MAX_TWILIO_BODY_BYTES)(view)))


@_twilio_webhook
def twilio_status(request: HttpRequest) -> None:
    """Delivery status callbacks (delivered, read, failed, undelivered)."""
    services.delivery_status_update(
        provider_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )


@_twilio_webhook
def twilio_inbound(request: HttpRequest) -> None:
    """Messages users send to our WhatsApp number: STOP/BERHENTI and START/MULAI change the opt-in."""
    services.inbound_record(
        sender=request.POST.get("From", ""),
        body=clean_text(request.POST.get("Body", ""), multiline=True),
        provider_id=request.POST.get("MessageSid", ""),
    )


@login_required
@never_cache
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), 20).get_page(request.GET.get("page"))
    items = selectors.rendered(page.object_list, user=request.user)
    return render(request, "notifications/list.html", {"page": page, "items": items})


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_read(user=request.user)
    return redirect("notifications:list")


@login_required
@never_cache
@require_GET
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Marks one as read and goes where the user acts on it."""
    notification = selectors.notifications_for(request.user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    services.notifications_mark_read(user=request.user, notification_ids=[notification.pk])
    items = selectors.rendered([notification], user=request.user)  # empty for a retired event
    return redirect(items[0].path if items and items[0].path else "notifications:list")


@never_cache
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """Dev only (`make run`, WHATSAPP_BACKEND=outbox and DEBUG): every WhatsApp message that would
    have been sent, newest first."""
    if not (settings.DEBUG and settings.WHATSAPP_BACKEND == "outbox"):
        raise Http404
    return render(request, "notifications/outbox.html", {"outbox": OutboxMessage.objects.all()[:200]})


@never_cache
@login_required
def phone_verify(request: HttpRequest) -> HttpResponse:
    """Proves the mobile number with a 6-digit code sent on WhatsApp: POST action=send asks for a code
    (then back here, where the code form waits), POST code=... checks it."""
    user = request.user
    form = PhoneVerificationCodeForm()
    send_error = ""
    if request.method == "POST" and user.phone and not user.phone_verified_at:
        if request.POST.get("action") == "send":
            try:
                phone_codes.phone_verification_start(user=user)
            except PhoneVerificationError as error:
                send_error = error.message
            else:
                return redirect("notifications:phone_verify")
        else:
            form = PhoneVerificationCodeForm(request.POST)
            if form.is_valid():
                try:
                    phone_codes.phone_verification_check(user=user, code=form.cleaned_data["code"])
                except PhoneVerificationError as error:
                    error.field = error.field or "code"
                    add_error_to_form(form, error)
                else:
                    messages.success(request, _("Your number is verified."))
                    return redirect("accounts:settings")
    pending = bool(user.phone and not user.phone_verified_at and phone_codes.code_pending(user))
    if pending and not form.is_bound:
        form.fields["code"].widget.attrs["autofocus"] = True
    return render(
        request,
        "accounts/phone_verify.html",
        {"form": form, "pending": pending or form.is_bound, "send_error": send_error},
    )
