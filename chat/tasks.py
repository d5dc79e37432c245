from celery import shared_task


@shared_task
def unread_notices_task() -> int:
    from chat.services import unread_notices_send

    return unread_notices_send()
