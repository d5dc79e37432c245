from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        from bookings import hooks
        from safety.card import safety_card, safety_steps

        # The booking page's safety card and the safety steps of its timeline (bookings cannot import safety).
        hooks.register(safety_card=safety_card, timeline_steps=safety_steps)

        from safety import personal_data

        personal_data.register()

        from accounts import hooks as account_hooks
        from safety.moderation import keep_out_from_elsewhere

        # The user admin and chat reports switch a person off through the same recorded decision.
        account_hooks.register_staff_deactivation(keep_out_from_elsewhere)

        # Sorotan (products) is sold only to a companion no open safety report is about.
        from products import hooks as product_hooks
        from safety.reports import has_open_report

        product_hooks.register_open_safety_report(has_open_report)
