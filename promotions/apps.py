from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "promotions"

    def ready(self) -> None:
        # bookings must not import promotions: booking_request asks bookings/hooks.py for a discount, and
        # every status change tells it, so a redemption is reserved, consumed and released with the booking.
        from bookings import hooks
        from promotions import services

        hooks.register(discount=services.booking_discount, on_status_changed=services.booking_status_changed)
        # Referrals: a friend's first completed booking earns the referrer's reward (or a full refund takes it
        # back), and a companion's reward lowers the commission frozen into their next requests' prices.
        from promotions import referrals

        hooks.register(on_status_changed=referrals.booking_status_changed, commission_cut=referrals.commission_cut)
        # accounts must not import promotions: the sign-up form asks accounts/hooks.py to check a typed
        # invitation code and to record the sign-up through an invitation, in the sign-up's transaction.
        from accounts import hooks as account_hooks

        account_hooks.register_invitation(check=referrals.invitation_check, signed_up=referrals.referral_signed_up)
        # The request page's preview (promotions/preview.py, the UI helper's): quote behind the rate limit.
        from promotions import preview

        hooks.register(discount_quote=preview.page_quote)

        from promotions import personal_data

        personal_data.register()
