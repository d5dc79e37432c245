"""A request id follows a request through its log lines and into the Celery tasks it enqueues (issue 19).

The id comes from the proxy's X-Request-ID when that is a sane token, else is made here; it goes back in the
response header, onto every log record, into the headers of the task messages the request publishes (also
those published after commit by core.after_commit.enqueue), and onto the task's own log records in the worker.
"""

import io
import json
import logging
import re
import threading

import kombu
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from config.celery import app
from core.after_commit import enqueue
from core.log_format import JsonFormatter
from core.redaction import RedactSecretsFilter
from core.request_id import RequestIdFilter, current_request_id
from tests.conftest import requires_redis

WAIT_SECONDS = 20
HEX_ID = re.compile(r"[0-9a-f]{32}")

view_logger = logging.getLogger("tests.ops.request_id.view")
task_logger = logging.getLogger("tests.ops.request_id.task")
# What the probe task saw in the worker, by its argument.
seen_in_task: dict[str, dict] = {}
task_done = threading.Event()


@app.task(name="tests.ops.request_id.probe", bind=True)
def probe_task(self, label):
    seen_in_task[label] = {"header": getattr(self.request, "request_id", None), "current": current_request_id()}
    task_logger.warning("probe task ran for %s", label)
    task_done.set()


def logging_view(request):
    view_logger.warning("inside the view")
    return HttpResponse(current_request_id() or "")


def enqueuing_view(request):
    # As services do: inside a transaction, the task is sent once it commits.
    with transaction.atomic():
        enqueue(probe_task, request.GET["label"])
    return HttpResponse(current_request_id() or "")


urlpatterns = [path("logs/", logging_view), path("enqueue/", enqueuing_view)]


@pytest.fixture
def captured_lines():
    """A handler like the configured one (request id and redaction filters, the JSON format) on our loggers."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [view_logger, task_logger]
    # Their own level: an embedded Celery worker started earlier in this process (start_worker's
    # app.log.setup) leaves the root logger at ERROR, which would drop these WARNING lines.
    levels = {item: item.level for item in loggers}
    for item in loggers:
        item.addHandler(handler)
        item.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        for item in loggers:
            item.removeHandler(handler)
            item.setLevel(levels[item])


def test_the_middleware_is_outermost_of_ours_and_the_filter_on_the_handler():
    from django.conf import settings

    ours = [name for name in settings.MIDDLEWARE if not name.startswith("django_prometheus.")]
    assert ours[0] == "core.request_id.RequestIdMiddleware"
    assert "request_id" in settings.LOGGING["handlers"]["stdout"]["filters"]


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("edge-4f2a.9_B", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("has space", False),
        ("semi;colon", False),
        ("new\\nline", False),
        ("", False),
        (None, False),
    ],
)
def test_a_sane_incoming_id_is_kept_anything_else_replaced(incoming, kept, captured_lines):
    headers = {} if incoming is None else {"X-Request-ID": incoming}

    response = Client().get("/logs/", headers=headers)

    request_id = response["X-Request-ID"]
    if kept:
        assert request_id == incoming
    else:
        assert HEX_ID.fullmatch(request_id)
    assert response.content.decode() == request_id  # the view saw the same id
    [line] = captured_lines()
    assert line["request_id"] == request_id and line["message"] == "inside the view"
    assert current_request_id() is None  # nothing left behind after the request


@override_settings(ROOT_URLCONF=__name__)
def test_each_request_gets_its_own_id():
    client = Client()
    ids = {client.get("/logs/")["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_outside_a_request_records_say_so(captured_lines):
    view_logger.warning("no request here")
    assert captured_lines()[0]["request_id"] == "-"


@requires_redis
@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__)
def test_a_task_enqueued_after_commit_carries_the_id_in_its_message_headers(worker_queue):
    response = Client().get("/enqueue/?label=headers", headers={"X-Request-ID": "req-headers-1"})
    assert response.status_code == 200

    # Nobody consumes the private queue: read the published message itself.
    with app.connection_for_read() as connection:
        queue = kombu.Queue(worker_queue, exchange=kombu.Exchange(worker_queue), routing_key=worker_queue)
        message = queue(connection.default_channel).get(no_ack=True)
    assert message is not None, "the task was not published"
    assert message.headers["task"] == "tests.ops.request_id.probe"
    assert message.headers["request_id"] == "req-headers-1"


@requires_redis
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__)
def test_a_real_worker_runs_the_task_under_the_requests_id(worker_queue, captured_lines):
    task_done.clear()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[worker_queue]):
        response = Client().get("/enqueue/?label=worker", headers={"X-Request-ID": "req-worker-7"})
        finished = task_done.wait(timeout=WAIT_SECONDS)

    assert finished, f"the worker did not run the task within {WAIT_SECONDS} s"
    assert response["X-Request-ID"] == "req-worker-7"
    assert seen_in_task["worker"] == {"header": "req-worker-7", "current": "req-worker-7"}
    task_lines = [line for line in captured_lines() if line["logger"] == task_logger.name]
    assert [line["request_id"] for line in task_lines] == ["req-worker-7"]


@override_settings(ROOT_URLCONF=__name__)
def test_an_eager_task_keeps_the_requests_id(captured_lines, transactional_db):
    """Tests and `make run` run tasks in-process: the task's lines carry the request's id too."""
    response = Client().get("/enqueue/?label=eager", headers={"X-Request-ID": "req-eager-3"})

    assert seen_in_task["eager"]["current"] == "req-eager-3"
    task_lines = [line for line in captured_lines() if line["logger"] == task_logger.name]
    assert [line["request_id"] for line in task_lines] == ["req-eager-3"] == [response["X-Request-ID"]]


def test_a_task_published_outside_a_request_gets_an_id_of_its_own(captured_lines):
    probe_task.apply(args=["alone"])
    assert HEX_ID.fullmatch(seen_in_task["alone"]["current"])
    assert current_request_id() is None
