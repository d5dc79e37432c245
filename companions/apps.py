from django.apps import AppConfig


class CompanionsConfig(AppConfig):
    name = "companions"

    def ready(self) -> None:
        # accounts must not import companions: it asks accounts/hooks.py, answered here.
        from companions import account_hooks

        account_hooks.register()

        from companions import personal_data

        personal_data.register()
