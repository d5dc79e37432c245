"""Demo packages for `make run` (composed by web's seed_demo): Sorotan for 7 and 30 days, Kompanion Plus for 30
and 90 days, so a demo companion can buy a promotion and a demo customer Plus through the payment simulator.
Idempotent: packages already there (by name) are left as they are, prices included (staff may have changed
them)."""

from products.models import Package, Product

DEMO_PACKAGES = (
    (Product.SOROTAN, "Sorotan 7 hari", 7, 75_000),
    (Product.SOROTAN, "Sorotan 30 hari", 30, 250_000),
    (Product.PLUS, "Kompanion Plus 30 hari", 30, 49_000),
    (Product.PLUS, "Kompanion Plus 90 hari", 90, 129_000),
)


def seed_packages() -> int:
    """Creates the demo packages that are missing; returns how many were created."""
    created = 0
    for product, name, days, price in DEMO_PACKAGES:
        _package, made = Package.objects.get_or_create(
            name=name, defaults={"product": product, "days": days, "price": price}
        )
        created += made
    return created
