"""Export my data (privacy/export.py): the request (a POST from the privacy centre) and the download."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from privacy import export

logger = logging.getLogger(__name__)

_PRIVATE_HEADERS = {
    "Cache-Control": "no-store, private",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@never_cache
@login_required
@require_POST
def export_request(request: HttpRequest) -> HttpResponse:
    try:
        export.export_request(request.user)
    except export.ExportError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("We are preparing your data. We will tell you in the app and by email when it is ready to download."),
        )
    return redirect("privacy:centre")


@never_cache
@login_required
@require_safe
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    """Only the person who asked, with the right token, within 48 hours: anything else is the same 404."""
    row = export.find(token, request.user)
    if row is None:
        raise Http404
    try:
        file = row.file.storage.open(row.file.name, "rb")
    except FileNotFoundError:
        logger.warning("export %s: file missing", row.pk)
        raise Http404 from None
    name = f"kompanion-data-{row.ready_at:%Y-%m-%d}.zip"
    response = FileResponse(file, content_type="application/zip", as_attachment=True, filename=name)
    for header, value in _PRIVATE_HEADERS.items():
        response[header] = value
    return response
