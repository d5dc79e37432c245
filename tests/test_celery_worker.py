"""A real Celery worker (in a thread, solo pool) on Redis runs the purge task against the real database.

Every other test runs tasks eagerly (config.settings.test). Here eager mode is switched off for the
duration of one test, the task goes through the broker on a queue of its own (so no other worker on the
same Redis can take it, and no leftover message from elsewhere reaches ours), and the worker thread
writes through its own database connection: hence `transaction=True`, so the rows it must see are
committed and its deletes are visible to the test afterwards.

The outcome is reported by Celery's `task_success` / `task_failure` signals (fired in the worker
thread once the task has returned, i.e. after its writes committed), so no result backend is needed
and a failure inside the worker surfaces with its exception instead of as a timeout.
"""

import threading
import uuid
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from celery.contrib.testing.worker import start_worker
from celery.signals import task_failure, task_success
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from accounts.tasks import purge_unverified_accounts_task
from config.celery import app
from tests.conftest import requires_redis
from tests.factories import CustomerFactory, StaffFactory

WAIT_SECONDS = 20

pytestmark = [
    pytest.mark.celery_worker,
    requires_redis,
    pytest.mark.django_db(transaction=True),
]


def _stale_joined(days_over: int = 1):
    return timezone.now() - timedelta(days=settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS + days_over)


def test_real_worker_purges_only_stale_unverified_accounts(worker_queue):
    stale_unverified = CustomerFactory(verified_email=False)
    fresh_unverified = CustomerFactory(verified_email=False)
    stale_verified = CustomerFactory()
    stale_staff_unverified = StaffFactory(verified_email=False)
    for user in (stale_unverified, fresh_unverified, stale_staff_unverified):  # as allauth's sign-up leaves them
        EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    User.objects.filter(pk__in=[stale_unverified.pk, stale_verified.pk, stale_staff_unverified.pk]).update(
        date_joined=_stale_joined()
    )
    fresh_unverified_joined = timezone.now() - timedelta(days=settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS - 1)
    User.objects.filter(pk=fresh_unverified.pk).update(date_joined=fresh_unverified_joined)

    task_id = f"purge-{uuid.uuid4().hex}"
    outcome: dict = {}
    done = threading.Event()

    # Filtered by task id, not by sender: `shared_task` hands out a proxy, the worker signals the task.
    def on_success(sender=None, result=None, **kwargs):
        if sender.request.id == task_id:
            outcome["result"] = result
            done.set()

    def on_failure(sender=None, exception=None, **kwargs):
        if sender.request.id == task_id:
            outcome["exception"] = exception
            done.set()

    task_success.connect(on_success, weak=False)
    task_failure.connect(on_failure, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[worker_queue]):
            purge_unverified_accounts_task.apply_async(queue=worker_queue, task_id=task_id)
            finished = done.wait(timeout=WAIT_SECONDS)
    finally:
        task_success.disconnect(on_success)
        task_failure.disconnect(on_failure)

    assert finished, f"the worker did not finish the task within {WAIT_SECONDS} s"
    assert "exception" not in outcome, f"the task failed in the worker: {outcome.get('exception')!r}"
    assert outcome["result"] == 1
    remaining = set(User.objects.values_list("pk", flat=True))
    assert remaining == {fresh_unverified.pk, stale_verified.pk, stale_staff_unverified.pk}
