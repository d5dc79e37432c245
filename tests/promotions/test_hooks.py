"""bookings reaches promotions only through bookings/hooks.py: the real app registers its handlers."""

from bookings import hooks
from promotions import services


def test_promotions_registers_the_discount_and_the_status_handler():
    registered = hooks.registered()
    assert registered["discount"] == (services.booking_discount,)
    assert services.booking_status_changed in registered["status_changed"]
