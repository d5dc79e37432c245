"""Views of the privacy app."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from allauth.account.decorators import reauthentication_required
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts import consents
from core import formatting, personal_data
from core.errors import add_error_to_form
from privacy import deletion, retention
from privacy.export import export_state
from privacy.forms import DeletionConfirmForm

# --- The privacy centre, account deletion ---------------------------------------------------------------

DELETED_SESSION_KEY = "privacy_deletion_purge_after"


def kept_items() -> list[dict]:
    """Each declaration's "what stays and why", once per sentence (several kinds share one, e.g. the books)."""
    items, seen = [], set()
    for declaration in personal_data.declarations():
        text = str(declaration.kept)
        if text and text not in seen:
            seen.add(text)
            items.append({"kind": declaration.kind, "kept": text})
    return items


@never_cache
@login_required
@require_GET
def centre(request: HttpRequest) -> HttpResponse:
    """The privacy centre: the export, how long what is kept, what stays after a deletion, delete."""
    context = {
        "periods": retention.periods(),
        "kept": kept_items(),
        "grace_days": deletion.grace_days(),
        "consents": consents.consent_states(request.user),
    }
    context["export"] = export_state(request.user)
    return render(request, "privacy/centre.html", context)


@never_cache
@login_required
@reauthentication_required
def delete_account(request: HttpRequest) -> HttpResponse:
    """Lists what must be finished first (and no button), or asks for confirmation; a POST deletes."""
    user = request.user
    blockers = deletion.deletion_blockers(user)
    form = DeletionConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not blockers and form.is_valid():
        try:
            scheduled = deletion.deletion_request(user)
        except deletion.DeletionError as error:
            blockers = error.blockers
            if not blockers:
                add_error_to_form(form, error)
        else:
            zone = user.time_zone
            logout(request)
            request.session[DELETED_SESSION_KEY] = [scheduled.purge_after.isoformat(), zone]
            return redirect("privacy:deleted")
    context = {"blockers": blockers, "form": form, "grace_days": deletion.grace_days()}
    return render(request, "privacy/delete.html", context, status=200)


@never_cache
@require_GET
def deleted(request: HttpRequest) -> HttpResponse:
    """After the deletion: when the purge happens and how to cancel it (from this browser's session only)."""
    if request.user.is_authenticated:
        return redirect("home")
    stored = request.session.get(DELETED_SESSION_KEY)
    try:
        purge_after, zone = parse_datetime(stored[0]), ZoneInfo(stored[1])
    except (TypeError, ValueError, IndexError, KeyError, ZoneInfoNotFoundError):
        return redirect("home")
    if purge_after is None:
        return redirect("home")
    when = formatting.format_datetime(purge_after, zone=zone.key, language=request.LANGUAGE_CODE)
    return render(request, "privacy/deleted.html", {"purge_date": when, "grace_days": deletion.grace_days()})
