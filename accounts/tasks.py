from celery import shared_task

from accounts import services


@shared_task
def purge_unverified_accounts_task() -> int:
    return services.purge_unverified_accounts()


@shared_task
def clear_expired_sessions_task() -> int:
    return services.sessions_clear_expired()
