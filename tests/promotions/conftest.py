import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    """Service messages are compared in English here (one test checks the Indonesian texts itself)."""
    with translation.override("en"):
        yield
