from django.conf import settings
from django.utils.functional import SimpleLazyObject

from notifications import selectors


def notifications(request):
    """The bell's unread count for signed-in users, and whether the dev WhatsApp outbox page exists
    (make run: DEBUG with WHATSAPP_BACKEND=outbox), for a link in the footer.

    The count is lazy and shared by every template rendered for the request: one COUNT query when the
    bell (or the list) shows it, none for a page or fragment that does not (a page that renders its
    cached content and its frame separately runs the context processors twice); kept in the cache per
    user while the fragment cache is on (selectors.bell_count)."""
    context = {}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        counts = getattr(request, "_unread_counts", None)
        if counts is None:
            counts = request._unread_counts = SimpleLazyObject(lambda: list(selectors.bell_counts(user)))
        context["unread_notifications"] = SimpleLazyObject(lambda: counts[0])
        context["unread_messages"] = SimpleLazyObject(lambda: counts[1])
    if settings.DEBUG and settings.WHATSAPP_BACKEND == "outbox":
        context["dev_outbox"] = True
    return context
