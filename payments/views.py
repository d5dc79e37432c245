import json
import logging

from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import services
from payments.midtrans_rules import verify_signature

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


@csrf_exempt  # signed by Midtrans instead (signature_key); never a browser form
@require_POST
def midtrans_notification(request: HttpRequest) -> JsonResponse:
    """Midtrans' HTTP notification. Answers fast: 200 for anything recorded (including what we
    ignore), 403 for a bad signature, 400 for a body that is not a notification, 503 when the
    database is busy so Midtrans retries (it retries 5xx up to five times)."""
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"status": "error", "reason": "too large"}, status=413)
    raw_body = request.body.decode("utf-8", errors="replace")
    try:
        payload = json.loads(raw_body)
    except ValueError:
        return JsonResponse({"status": "error", "reason": "not JSON"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"status": "error", "reason": "not a notification"}, status=400)
    if not (settings.MIDTRANS_SERVER_KEY and verify_signature(payload, server_key=settings.MIDTRANS_SERVER_KEY)):
        services.payment_record_forged(payload=payload, raw_body=raw_body)
        logger.warning("midtrans notification with a bad signature for order %s", str(payload.get("order_id"))[:64])
        return JsonResponse({"status": "error", "reason": "signature"}, status=403)
    try:
        notification = services.payment_apply_notification(payload=payload, raw_body=raw_body)
    except OperationalError:
        logger.warning("midtrans notification for %s deferred: database busy", payload.get("order_id"))
        return JsonResponse({"status": "retry"}, status=503)
    return JsonResponse({"status": "ok", "verdict": notification.verdict})
