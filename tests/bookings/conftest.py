import pytest

from tests.bookings.helpers import make_companion


@pytest.fixture
def profile(db):
    """A listed Jakarta companion working 08.00-22.00 every day (see helpers.make_companion)."""
    return make_companion()
