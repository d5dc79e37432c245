from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        # bookings must not import reviews: the booking page asks bookings/hooks.py, filled here.
        from bookings import hooks
        from reviews import selectors

        hooks.register(review_summary=selectors.booking_review_summary, customer_reviews=selectors.customer_reviews)

        # companions must not import reviews: the profile asks companions/review_facts.py, filled here.
        from companions import review_facts

        review_facts.register(selectors.public_reviews)

        from reviews import personal_data

        personal_data.register()
