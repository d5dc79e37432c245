from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Paid products"

    def ready(self) -> None:
        from products import personal_data

        personal_data.register()
        # Kompanion Plus perks (products/plus.py): the member discount, the 12-hour free cancellation and the
        # Plus badge through bookings/hooks.py, early access through companions/early_access.py.
        from products import plus

        plus.register()
        # Sorotan in search and its statistics: the promoted set for companions.promoted_facts, the view
        # counts' DailyStat in the personal-data registry (products/promoted.py).
        from products import promoted

        promoted.register()

        # Pausing a profile pauses its promotion's clock (companions cannot import products).
        from companions import promoted_facts
        from products.services import sorotan_paused_changed

        promoted_facts.register_pause_listener(sorotan_paused_changed)
