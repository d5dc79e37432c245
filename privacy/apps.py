from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from privacy import signals

        # Logging in during the grace period cancels a scheduled deletion (privacy/backends.py).
        user_logged_in.connect(signals.cancel_deletion_on_login, dispatch_uid="privacy_cancel_deletion_on_login")

        # The retention rules live beside their models (<app>/retention.py); the job that runs them is here.
        from chat import retention as chat_retention
        from companions import retention as companions_retention
        from notifications import retention as notifications_retention
        from payments import retention as payments_retention

        for module in (companions_retention, chat_retention, notifications_retention, payments_retention):
            module.register()

        from privacy import personal_data

        personal_data.register()
