"""Side effects after commit never turn a committed success into an error page.

`enqueue(task, *args)` sends a Celery task once the caller's transaction commits. When the broker cannot
be reached the change stands and one warning line is logged: every task queued this way has a sweep
that finds its work in the database (payments.reconcile_payments_task re-sends pending refunds and asks
the provider about open checkouts; notifications.sweep_deliveries_task re-sends deliveries). Celery's
own `delay_on_commit()` registers a callback that is not robust: a broker outage raised out of the
commit into the response.

In-process (CELERY_TASK_ALWAYS_EAGER: `make run` without a broker, and the tests) there is no broker to
lose, and the task's own failure surfaces as Celery's eager mode intends (CELERY_TASK_EAGER_PROPAGATES).
"""

import logging

from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> None:
    """Call inside or outside a transaction; the task is sent after commit (at once outside one)."""

    def send_task() -> None:  # a named function: Django logs a robust callback's failure by its name
        try:
            task.delay(*args)
        except (BrokerError, ConnectionError, OSError) as error:
            logger.warning("task %s%r not queued (%s): left for its sweep", task.name, args, type(error).__name__)

    transaction.on_commit(send_task, robust=not settings.CELERY_TASK_ALWAYS_EAGER)
