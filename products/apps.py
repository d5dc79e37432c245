from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Paid products"

    def ready(self) -> None:
        from products import personal_data

        personal_data.register()
