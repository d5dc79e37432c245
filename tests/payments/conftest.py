import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    """Service messages are compared in English here (the catalogues are tested elsewhere)."""
    with translation.override("en"):
        yield
