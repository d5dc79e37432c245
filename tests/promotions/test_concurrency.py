"""The hammer: 50 customers send a request with the same code at the same instant, each to a companion of
their own (so no booking lock serializes them: only the code's row decides). The counters move only by the
conditional UPDATE in promotions.services._reserve_counters, so exactly the uses (or the budget) left are
reserved, and every other request fails with a clear message and writes nothing."""

import pytest

from bookings.errors import BookingError
from bookings.models import Booking
from promotions.models import Promotion, Redemption
from tests.bookings.helpers import START, make_companion, new_customer, request
from tests.concurrency import at_once
from tests.promotions.helpers import promotion

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]

CUSTOMERS = 50


@pytest.fixture(autouse=True)
def patient_locks(settings):
    """Every thread waits for the code's row (held by each reservation until its booking commits)."""
    settings.LOCK_TIMEOUT_MS = 10_000


def hammer(code_text: str) -> tuple[list[BaseException], list]:
    pairs = [(new_customer(), make_companion(name=f"Ayu{index}")) for index in range(CUSTOMERS)]
    results = []

    def attempt(customer, profile):
        def run():
            results.append(request(customer, profile, START, promo_code=code_text))

        return run

    errors = at_once(*(attempt(customer, profile) for customer, profile in pairs), timeout=120)
    return errors, results


def test_fifty_customers_and_ten_uses_left_make_exactly_ten_reservations():
    code = promotion(code="SEPULUH", total_uses=12)
    Promotion.objects.filter(pk=code.pk).update(uses_reserved=2)  # 10 uses left
    errors, made = hammer("sepuluh")
    assert len(made) == 10 and len(errors) == CUSTOMERS - 10
    assert all(isinstance(error, BookingError) for error in errors), errors
    assert {str(error) for error in errors} == {
        "Kuota kode ini sudah habis."
    }  # each thread speaks the default language
    code.refresh_from_db()
    assert code.uses_reserved == 12 and code.budget_reserved == 10 * 45_000
    assert Redemption.objects.filter(promotion=code, status="reserved").count() == 10
    assert Booking.objects.count() == 10  # a refused request wrote nothing


def test_fifty_customers_and_a_budget_for_seven_make_exactly_seven_reservations():
    code = promotion(code="TUJUH", budget=7 * 45_000 + 44_999)
    errors, made = hammer("TUJUH")
    assert len(made) == 7 and len(errors) == CUSTOMERS - 7
    assert {str(error) for error in errors} == {"Anggaran kode ini sudah habis."}
    code.refresh_from_db()
    assert (code.uses_reserved, code.budget_reserved) == (7, 7 * 45_000)
    assert Booking.objects.count() == Redemption.objects.count() == 7
