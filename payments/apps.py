from django.apps import AppConfig


def booking_payment_summary(booking) -> dict:
    """The customer's payment card on the booking page: receipt and refunds (bookings/hooks.py)."""
    from payments import selectors

    return {"refunds": list(selectors.booking_refunds(booking)), "receipt": selectors.confirming_payment(booking)}


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        # bookings must not import payments: its transitions call bookings/hooks.py, filled here. The
        # handlers run inside the booking's transaction, so ledger postings commit with the transition.
        from bookings import hooks
        from payments import settlement

        hooks.register(
            on_left_unpaid=settlement.booking_left_unpaid,
            on_settled=settlement.booking_settle,
            payment_summary=booking_payment_summary,
        )

        # The referral programme refuses a reward to a friend with the referrer's bank account number.
        from payments import selectors
        from promotions import hooks as promotion_hooks

        promotion_hooks.register_bank_numbers(selectors.bank_account_numbers)

        from payments import personal_data

        personal_data.register()
