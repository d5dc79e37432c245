from django.apps import AppConfig


class WebConfig(AppConfig):
    """The top of the house: pages and commands that compose several apps (home, legal pages, the
    language switch, the demo seed). Nothing imports web."""

    name = "web"
    verbose_name = "Web"
