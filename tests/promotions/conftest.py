import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    """Service messages are compared in English here (one test checks the Indonesian texts itself)."""
    with translation.override("en"):
        yield


@pytest.fixture
def referral_programme(settings):
    """The referral programme's figures as issue 16 gives them, fixed so that the tests do not follow .env
    changes. Not autouse: the other tests here rely on the test settings' WELCOME_DISCOUNT_BASIS_POINTS = 0.
    Each referral test file requests it from its own `programme` fixture, which sets what differs there
    (the ordinary welcome discount's percentage above all)."""
    settings.WELCOME_DISCOUNT_CAP = 50_000
    settings.REFERRAL_WELCOME_DISCOUNT_BASIS_POINTS = 2500
    settings.REFERRAL_WELCOME_DISCOUNT_CAP = 75_000
    settings.REFERRAL_VOUCHER_AMOUNT = 50_000
    settings.REFERRAL_VOUCHER_DAYS = 180
    settings.REFERRAL_COMMISSION_CUT_BASIS_POINTS = 200
    settings.REFERRAL_COMMISSION_CUT_DAYS = 30
    settings.REFERRAL_REWARDS_PER_YEAR = 10
    settings.REFERRAL_BURST_SIGNUPS = 3
    settings.REFERRAL_BURST_HOURS = 24
