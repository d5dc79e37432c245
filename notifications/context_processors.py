from django.conf import settings

from notifications import selectors


def notifications(request):
    """The bell's unread count (one COUNT query, signed-in users only), and whether the dev WhatsApp
    outbox page exists (make run: DEBUG with WHATSAPP_BACKEND=outbox), for a link in the footer."""
    context = {}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["unread_notifications"] = selectors.unread_count(user)
    if settings.DEBUG and settings.WHATSAPP_BACKEND == "outbox":
        context["dev_outbox"] = True
    return context
