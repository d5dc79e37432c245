from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": health.check_database(),
        "cache": health.check_cache(),
        "broker": health.check_broker() if settings.CELERY_BROKER_URL else "not configured",
    }
    failed = {name: reason for name, reason in checks.items() if reason not in (None, "not configured")}
    body = {
        "status": "error" if failed else "ok",
        "checks": {
            name: ("ok" if reason is None else ("skipped" if reason == "not configured" else "down"))
            for name, reason in checks.items()
        },
    }
    if failed:
        body["errors"] = failed
    return JsonResponse(body, status=503 if failed else 200)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A friendly page instead of Django's technical one: usually an expired page or cookie."""
    return render(request, "403_csrf.html", status=403)
