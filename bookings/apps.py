from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self) -> None:
        # companions must not import bookings: it asks companions/booking_facts.py, filled here.
        from bookings import facts
        from companions import booking_facts

        booking_facts.register(booking_facts.Provider(held_spans=facts.held_spans, reliability=facts.reliability))

        # notifications must not import bookings: its messages ask for booking details through this lookup.
        from bookings.message_facts import booking_facts as message_booking_facts
        from notifications import messages

        messages.register_booking_lookup(message_booking_facts)

        from bookings import personal_data

        personal_data.register()
