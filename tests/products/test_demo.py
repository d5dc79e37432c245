"""The demo packages of `make run`: made once, left as they are on a second run (staff may change prices)."""

import pytest

from products.demo import DEMO_PACKAGES, seed_packages
from products.models import Package

pytestmark = pytest.mark.django_db


def test_the_demo_packages_are_made_once_and_prices_staff_changed_stay():
    assert seed_packages() == len(DEMO_PACKAGES)
    Package.objects.filter(name="Sorotan 7 hari").update(price=80_000)
    assert seed_packages() == 0
    assert Package.objects.count() == len(DEMO_PACKAGES)
    assert Package.objects.get(name="Sorotan 7 hari").price == 80_000
    assert set(Package.objects.values_list("product", flat=True)) == {"sorotan", "plus"}
