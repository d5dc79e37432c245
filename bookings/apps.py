from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self) -> None:
        # notifications must not import bookings: its messages ask for booking details through this lookup.
        from bookings.message_facts import booking_facts as message_booking_facts
        from notifications import messages

        messages.register_booking_lookup(message_booking_facts)
