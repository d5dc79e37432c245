"""KTP and selfie images, shown only to their owner and to staff who may use the admin.

The files live in the "private" storage, which has no public URL: on local disk or in memory this view
streams them; on S3 it redirects to a presigned URL that expires in a few minutes. Anyone else gets the
same 404 as for an id that does not exist, so the view does not reveal which verifications exist.
"""

import logging

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_safe

from companions.models import IdentityFileView, IdentityVerification

logger = logging.getLogger(__name__)

IDENTITY_FILE_FIELDS = {"ktp": "ktp_image", "selfie": "selfie_image"}

_PRIVATE_HEADERS = {
    "Cache-Control": "no-store, private",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Other sites cannot embed the picture, even for a signed-in owner.
    "Cross-Origin-Resource-Policy": "same-origin",
}


@require_safe
def identity_file(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    field_name = IDENTITY_FILE_FIELDS.get(kind)
    if field_name is None:
        raise Http404
    # Only the owner's id and the file name: the encrypted NIK is neither loaded nor decrypted.
    row = IdentityVerification.objects.filter(pk=pk).values_list("profile__user_id", field_name).first()
    if row is None:
        raise Http404
    owner_id, name = row
    if not name or not _may_view(request, owner_id=owner_id):
        raise Http404

    # The field's storage, where the file was saved (Django resolves the callable once, at import).
    storage = IdentityVerification._meta.get_field(field_name).storage
    # Who looked at which ID document; never the NIK or a signed URL.
    logger.info("identity file served: verification=%s kind=%s user=%s", pk, kind, request.user.pk)
    if request.user.pk != owner_id:
        # Each time staff open the file, for the owner's data export (issue 15): one row per view.
        IdentityFileView.objects.create(verification_id=pk, viewer=request.user, kind=kind)

    if getattr(storage, "querystring_auth", False):
        # S3: the browser fetches the object with a short-lived signature; S3 answers with these headers.
        url = storage.url(
            name,
            parameters={
                "ResponseCacheControl": "no-store, private",
                "ResponseContentType": "image/jpeg",
                "ResponseContentDisposition": "inline",
            },
        )
        response: HttpResponse = HttpResponseRedirect(url)
    else:
        try:
            file = storage.open(name, "rb")
        except FileNotFoundError:
            logger.warning("identity file missing: verification=%s kind=%s", pk, kind)
            raise Http404 from None
        response = FileResponse(file, content_type="image/jpeg")
        response["Content-Disposition"] = "inline"
    for header, value in _PRIVATE_HEADERS.items():
        response[header] = value
    return response


def _may_view(request: HttpRequest, *, owner_id: int) -> bool:
    user = request.user
    if not (user.is_authenticated and user.is_active):
        return False
    # Staff: the same gate as the admin where verifications are reviewed (active staff with TOTP).
    if user.pk == owner_id:
        return True
    # Staff: the admin's own gate (active staff with TOTP) and the permission to see ID checks.
    return admin.site.has_permission(request) and user.has_perm("companions.view_identityverification")
