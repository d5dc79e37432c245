from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "promotions"

    def ready(self) -> None:
        # bookings must not import promotions: booking_request asks bookings/hooks.py for a discount, and
        # every status change tells it, so a redemption is reserved, consumed and released with the booking.
        from bookings import hooks
        from promotions import services

        hooks.register(discount=services.booking_discount, on_status_changed=services.booking_status_changed)
        # The request page's preview (promotions/preview.py, the UI helper's): quote behind the rate limit.
        from promotions import preview

        hooks.register(discount_quote=preview.page_quote)

        from promotions import personal_data

        personal_data.register()
