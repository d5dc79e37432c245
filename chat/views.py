"""The messages pages. Only the booking's two parties reach a conversation: anyone else gets 404 on every
URL here (staff read conversations in the admin, where each read is logged)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings import selectors as booking_selectors
from bookings.models import Booking
from chat import masking, rules, selectors, services
from chat.errors import ChatError
from chat.forms import MessageForm, ReportForm
from chat.models import Conversation, Message
from core.errors import add_error_to_form


def _parties_conversation(request: HttpRequest, reference: str):
    """The booking's conversation as a queryset, if the user is one of its two parties; 404 for a reference
    that cannot be one."""
    if not booking_selectors.plausible_reference(reference):
        raise Http404
    user = request.user
    return Conversation.objects.filter(Q(customer_id=user.pk) | Q(companion_id=user.pk), booking__reference=reference)


def _conversation(request: HttpRequest, reference: str) -> Conversation:
    """The conversation of a booking of which the user is one of the two parties (one query), or 404."""
    conversation = (
        _parties_conversation(request, reference)
        .select_related("booking", "booking__companion", "customer", "companion")
        .first()
    )
    if conversation is None:
        conversation = _opened_for_older_booking(reference, request.user)
    if conversation is None:
        raise Http404
    return conversation


def _conversation_only(request: HttpRequest, reference: str) -> Conversation:
    """The poll's lookup: the conversation row alone (no booking, no people), for a party, or 404. Most
    polls find nothing new and need no more (the full lookup's five-table join was most of their cost)."""
    conversation = (
        _parties_conversation(request, reference)
        .only("pk", "customer_id", "companion_id", "customer_read_upto", "companion_read_upto")
        .first()
    )
    return conversation if conversation is not None else _conversation(request, reference)


def _opened_for_older_booking(reference: str, user) -> Conversation | None:
    """A booking requested before conversations existed gets its conversation on first visit."""
    booking = Booking.objects.select_related("companion").filter(reference=reference).first()
    if booking is None or rules.party_of(booking, user) is None:
        return None
    return services.conversation_open(booking=booking)


MAX_ID = 2**63 - 1  # a message id is a bigint: anything beyond is no message


def _message_id(value) -> int:
    """A message id from the query or form (0 when missing or not a number; clamped to the bigint range,
    so no number typed into a URL reaches the database as an out-of-range parameter)."""
    try:
        return min(max(0, int(str(value or 0)[:30])), MAX_ID)
    except (TypeError, ValueError):
        return 0


def _after(request: HttpRequest) -> int:
    return _message_id(request.GET.get("after") or request.POST.get("after"))


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/inbox.html", {"conversations": selectors.conversations_of(request.user)})


def _page_context(request, conversation, *, form=None) -> dict:
    booking, now = conversation.booking, timezone.now()
    before = _message_id(request.GET.get("before")) or None  # "Show older messages" without JavaScript
    shown, more = selectors.messages_page(conversation, request.user.pk, before=before)
    last_id = shown[-1].pk if shown else 0
    if last_id:
        services.conversation_read(conversation=conversation, reader=request.user, upto=last_id)
    other = conversation.other(request.user.pk)
    return {
        "conversation": conversation,
        "booking": booking,
        "other_name": other.get_short_name(),
        "chat_messages": shown,
        "more": more,
        "after": last_id,
        "form": form or MessageForm(initial={"after": last_id}),
        "may_send": rules.may_send(booking, request.user, now),
        "read_only": rules.is_read_only(booking, now),
        "masks_contacts": rules.masks_contacts(booking),
    }


@login_required
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, reference: str) -> HttpResponse:
    """The conversation; POST sends a message (HTMX: the composer comes back fresh with the new messages;
    without JavaScript: back to the page)."""
    found = _conversation(request, reference)
    other = found.other(request.user.pk)
    if request.method == "GET":
        return render(request, "chat/conversation.html", _page_context(request, found))
    form = MessageForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.message_send(
                booking=found.booking,
                sender=request.user,
                text=form.cleaned_data["text"],
                client_key=form.cleaned_data["client_key"],
            )
        except ChatError as problem:
            add_error_to_form(form, problem)
            status = 422
    else:
        status = 422
    if status == 200 and not request.htmx:
        return redirect("chat:conversation", reference=reference)
    if not request.htmx:
        return render(request, "chat/conversation.html", _page_context(request, found, form=form), status=status)
    after = _after(request)
    new = selectors.messages_after(found.pk, request.user.pk, after) if status == 200 else []
    if new:
        services.conversation_read(conversation=found, reader=request.user, upto=new[-1].pk)
    context = {
        "conversation": found,
        "booking": found.booking,
        "form": MessageForm(initial={"after": new[-1].pk if new else after}) if status == 200 else form,
        "after": new[-1].pk if new else after,
        "new_messages": new,
        "may_send": True,
        "other_name": other.get_short_name(),
    }
    return render(request, "chat/_composer_response.html", context, status=status)


@login_required
@require_GET
def poll(request: HttpRequest, reference: str) -> HttpResponse:
    """New messages after `after` (HTMX, every few seconds while the tab is visible): 204 when nothing
    is new. The same few queries however long the conversation."""
    found = _conversation_only(request, reference)
    new = selectors.messages_after(found.pk, request.user.pk, _after(request))
    if not new:
        return HttpResponse(status=204)
    services.conversation_read(conversation=found, reader=request.user, upto=new[-1].pk, reference=reference)
    return render(request, "chat/_poll.html", {"new_messages": new, "after": new[-1].pk})


@login_required
@require_GET
def older(request: HttpRequest, reference: str) -> HttpResponse:
    found = _conversation(request, reference)
    before = _message_id(request.GET.get("before"))
    if not before:
        return HttpResponse(status=400)
    shown, more = selectors.messages_page(found, request.user.pk, before=before)
    return render(request, "chat/_older.html", {"conversation": found, "chat_messages": shown, "more": more})


@require_POST
@login_required
def check(request: HttpRequest, reference: str) -> HttpResponse:
    """The warning shown while typing (HTMX): contact details that the other side will see hidden, or a
    request to pay outside Kompanion / a sexual request. Nothing is stored."""
    found = _conversation(request, reference)
    text = (request.POST.get("text") or "")[:4000]
    contacts = bool(masking.find_contacts(text)) and rules.masks_contacts(found.booking)
    concerns = masking.find_concerns(text)
    return render(request, "chat/_warning.html", {"contacts": contacts, "concerns": concerns})


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, reference: str) -> HttpResponse:
    found = _conversation(request, reference)
    form = ReportForm(request.POST or None, initial={"message": request.GET.get("message")})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.report_send(
                    booking=found.booking,
                    reporter=request.user,
                    category=form.cleaned_data["category"],
                    details=form.cleaned_data["details"],
                    message_id=form.cleaned_data["message"],
                )
            except ChatError as problem:
                add_error_to_form(form, problem)
            else:
                flash.success(request, _("Thank you. Our safety team will look at it; what was written is kept."))
                return redirect("chat:conversation", reference=reference)
        status = 422
    reported_id = _message_id(request.POST.get("message") or request.GET.get("message"))
    reported = Message.objects.filter(conversation=found, pk=reported_id).first() if reported_id else None
    context = {
        "conversation": found,
        "form": form,
        "reported": selectors.shown(reported, request.user.pk) if reported else None,
    }
    return render(request, "chat/report.html", context, status=status)


@require_POST
@login_required
def block(request: HttpRequest, reference: str) -> HttpResponse:
    found = _conversation(request, reference)
    services.block_from_booking(booking=found.booking, blocker=request.user)
    flash.success(
        request,
        _("Blocked. Neither of you can write to the other or send a request. You can undo it in your settings."),
    )
    return redirect("chat:conversation", reference=reference)
