"""CELERY_SPLIT_QUEUES (issue 19, docs/scaling.md): payments' and notifications' tasks each on a queue of their
own, the rest on "celery", and a worker started without -Q consuming all three. Read from Celery's own router
and queue list in a fresh process (the app reads its settings once)."""

from tests.fresh_process import django_json

SCRIPT = """
from config.celery import app
app.loader.import_default_modules()
names = ["payments.tasks.reconcile_payments_task", "notifications.tasks.sweep_deliveries_task",
         "bookings.tasks.sweep_deadlines_task", "analytics.tasks.flush_searches_task"]
routed = {name: app.amqp.router.route({}, name)["queue"].name for name in names}
print(json.dumps({"routed": routed, "consumed": sorted(app.amqp.queues.consume_from or app.amqp.queues)}))
"""


def _run(**environment) -> dict:
    return django_json(SCRIPT, settings_module="config.settings.test", drop=set(), environment=environment)


def test_off_by_default_everything_on_the_default_queue():
    routed = _run(CELERY_SPLIT_QUEUES="false")["routed"]
    assert set(routed.values()) == {"celery"}


def test_split_routes_payments_and_notifications_apart_and_a_plain_worker_consumes_all():
    figures = _run(CELERY_SPLIT_QUEUES="true")
    assert figures["routed"] == {
        "payments.tasks.reconcile_payments_task": "payments",
        "notifications.tasks.sweep_deliveries_task": "notifications",
        "bookings.tasks.sweep_deadlines_task": "celery",
        "analytics.tasks.flush_searches_task": "celery",
    }
    assert figures["consumed"] == ["celery", "notifications", "payments"]
