"""Settings for the gunicorn of the payments benchmark: the bench settings plus a broker, so that what
the webhook enqueues after commit (notification deliveries, refunds) goes to Redis as in production,
instead of running inside the measured request (the bench settings run tasks in-process). Nothing
consumes the queue during the run; the benchmark deletes it afterwards."""

import os

from config.settings.bench import *  # noqa: F403

CELERY_BROKER_URL = os.environ["BENCH_CELERY_BROKER_URL"]
CELERY_BROKER_READ_URL = CELERY_BROKER_WRITE_URL = None  # bench.py's in-memory ones: these talk to the broker
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = os.environ["BENCH_CELERY_QUEUE"]
