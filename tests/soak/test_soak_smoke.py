"""The soak runner end to end, small: `python -m tests.soak.run` for 15 s with 3 users (one browsing, one
customer on the whole journey, one companion accepting) against its gunicorn, its Celery worker, PostgreSQL
and Redis; its checks afterwards must pass and at least one booking must have been paid through the
simulator and chatted about.

To stay within a minute it needs no migrations: the soak database is a copy (CREATE DATABASE ... TEMPLATE) of
this run's migrated test database, seeded with 200 companions and 10 customers; the static files are not
collected (SOAK_PLAIN_STATIC). The copy is dropped afterwards.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, connections

from tests.bench.seed import direct_connection
from tests.conftest import requires_postgresql, requires_redis

BASE_DIR = Path(__file__).resolve().parent.parent.parent

pytestmark = [requires_postgresql, requires_redis, pytest.mark.celery_worker]


def _maintenance(statement: str) -> None:
    with direct_connection("postgres") as maintenance:
        maintenance.execute(statement)


@pytest.fixture
def soak_database_url(django_db_setup, django_db_blocker):
    """A copy of the migrated test database under a name containing "soak" (tests/soak/settings.py). No
    django_db mark: the test holds no transaction of its own on the database being copied."""
    settings = connection.settings_dict
    name = f"{settings['NAME']}_soak"
    with django_db_blocker.unblock():
        connections.close_all()  # a template must have no other session
        _maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _maintenance(f'CREATE DATABASE "{name}" TEMPLATE "{settings["NAME"]}"')
    credentials = settings["USER"] + (f":{settings['PASSWORD']}" if settings.get("PASSWORD") else "")
    yield f"postgres://{credentials}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    _maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_short_soak_pays_bookings_and_its_checks_pass(soak_database_url, tmp_path):
    figures_path = tmp_path / "figures.json"
    redis_url = os.environ["REDIS_URL"]
    environment = {
        **os.environ,
        "SOAK_DATABASE_URL": soak_database_url,
        "SOAK_REDIS_URL": redis_url,
        "SOAK_BROKER_URL": redis_url,
        "SOAK_ROOT": str(tmp_path / "soak"),
        "SOAK_PLAIN_STATIC": "1",
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)  # the runner sets its own (tests/soak/settings.py)
    finished = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "tests.soak.run",
            "--soak-seconds",
            "15",
            "--users",
            "3",
            "--spawn-rate",
            "3",
            "--customer-users",
            "1",
            "--companion-users",
            "1",
            "--companions",
            "200",
            "--customers",
            "10",
            "--json",
            str(figures_path),
        ],  # fmt: skip
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=150,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-4000:]
    figures = json.loads(figures_path.read_text())
    assert figures["checks"] and all(figures["checks"].values()), figures["checks"]
    assert figures["paid_in_soak"] >= 1, output[-4000:]
    assert figures["outcomes"].get("chat_sent", 0) >= 1, figures["outcomes"]
    assert figures["total"]["requests"] > 10
    assert figures["error_rate"] <= 0.05, output[-4000:]
