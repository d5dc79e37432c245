"""Settings for the Celery worker of the notifications benchmark (tests/bench/notifications.py): the bench
settings (config.settings.bench: its database, its cache) plus a broker and eager mode off, as a
production worker runs. The bench's own processes (gunicorn, the seeder) keep config.settings.bench, which
has no broker and runs tasks in-process.

WHATSAPP_BACKEND and TWILIO_* come from the environment the benchmark gives the worker (read by base.py),
pointing the real `twilio` client at the fake Twilio running in the benchmark process."""

import os

from config.settings.bench import *  # noqa: F403

CELERY_BROKER_URL = os.environ["BENCH_CELERY_BROKER_URL"]
CELERY_BROKER_READ_URL = CELERY_BROKER_WRITE_URL = None  # bench.py's in-memory ones: these talk to the broker
CELERY_TASK_ALWAYS_EAGER = False
