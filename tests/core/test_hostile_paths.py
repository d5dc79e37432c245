"""A NUL byte in the path answers 400 on every URL that takes a string, signed in or not, GET or POST:
PostgreSQL refuses NUL in text, so without core.middleware.NulInPathMiddleware the lookups failed (500)."""

import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PATHS = [
    "/bookings/A%00B/",
    "/bookings/A%00B/cancel/",
    "/bookings/A%00B/dispute/",
    "/bookings/A%00B/review/",
    "/bookings/A%00B/review/reply/",
    "/bookings/A%00B/pay/",
    "/bookings/A%00B/payment/",
    "/bookings/A%00B/receipt/",
    "/bookings/A%00B/refunds/1/bank/",
    "/payments/simulator/A%00B/",
    "/calendar/A%00B.ics",
    "/companion/verification/1/a%00b/",
    "/c/a%00b/",
    "/%00",
]


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "customer"])
def test_a_nul_in_the_path_is_a_bad_request(client, signed_in):
    if signed_in:
        client.force_login(CustomerFactory())
    answers = {
        (method, path): getattr(client, method)(path).status_code for path in PATHS for method in ("get", "post")
    }
    assert set(answers.values()) == {400}, answers
