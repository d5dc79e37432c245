"""The payments Celery tasks, gathered for autodiscovery and for callers (`from payments.tasks import
refund_process_task`). Each is defined beside the service it runs, with its name pinned to this module
("payments.tasks.<name>", as in the beat schedule and in messages already queued), so the services that
enqueue them never import a module that imports them back."""

from payments.services.purchases import purchases_daily_task
from payments.services.reconciliation import check_payment_task, reconcile_payments_task
from payments.services.refunds import MAX_REFUND_RETRIES, refund_process_task
from payments.services.webhooks import close_open_attempts_task

__all__ = [
    "MAX_REFUND_RETRIES",
    "check_payment_task",
    "close_open_attempts_task",
    "purchases_daily_task",
    "reconcile_payments_task",
    "refund_process_task",
]
