from celery import shared_task

from reviews import services


@shared_task
def publish_due_reviews_task() -> int:
    return services.reviews_publish_due()
