from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        # bookings must not import chat: a new booking's conversation opens through bookings/hooks.py.
        from bookings import hooks
        from chat import services

        hooks.register(on_requested=services.conversation_open)

        from chat import personal_data

        personal_data.register()
