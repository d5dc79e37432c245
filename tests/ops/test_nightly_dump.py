"""The nightly logical dump (issue 19), for real: ops/backup/nightly-dump.sh runs pg_dump against the test
database and uploads the dump and its manifest to an S3 server (moto's, over HTTP), keeps BACKUP_KEEP_DAYS
there (the newest always) and two locally, and exits non-zero when the bucket or the database is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from django.conf import settings
from django.db import connection
from moto.server import ThreadedMotoServer

from tests.conftest import requires_postgresql

pytestmark = [requires_postgresql, pytest.mark.postgres, pytest.mark.django_db]

SCRIPT = Path(settings.BASE_DIR) / "ops" / "backup" / "nightly-dump.sh"


@pytest.fixture
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    # moto keeps its buckets for the whole process: a bucket of this test's own.
    bucket = f"kompanion-backups-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    yield endpoint, s3, bucket
    server.stop()


def run(endpoint: str, bucket: str, directory: Path, **overrides) -> subprocess.CompletedProcess:
    database = connection.settings_dict
    environment = {
        **os.environ,
        # python3 in the script is this interpreter (boto3 and psycopg, as the backup image has them).
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PGHOST": database["HOST"] or "127.0.0.1",
        "PGPORT": str(database["PORT"] or 5432),
        "PGUSER": database["USER"] or "postgres",
        "PGPASSWORD": database["PASSWORD"] or "",
        "PGDATABASE": database["NAME"],
        "BACKUP_S3_ENDPOINT": endpoint,
        "BACKUP_S3_BUCKET": bucket,
        "BACKUP_S3_ACCESS_KEY": "test",
        "BACKUP_S3_SECRET_KEY": "test",
        "BACKUP_DIR": str(directory),
        "BACKUP_KEEP_DAYS": "14",
        **overrides,
    }
    environment.pop("DATABASE_URL", None)
    return subprocess.run(["/bin/bash", str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=120)


def keys(s3, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_the_dump_and_its_manifest_are_uploaded_under_a_dated_name_and_old_ones_pruned(s3_server, tmp_path):
    endpoint, s3, bucket = s3_server
    first = run(endpoint, bucket, tmp_path)
    assert first.returncode == 0, first.stderr
    uploaded = keys(s3, bucket)
    name = connection.settings_dict["NAME"]
    assert len(uploaded) == 2 and uploaded[0].startswith(f"dumps/{name}-") and uploaded[0].endswith("Z.dump")
    assert uploaded[1] == uploaded[0] + ".manifest.json"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=uploaded[1])["Body"].read())
    assert manifest["database"] == name and "payments_journal" in manifest["tables"]
    dump = s3.get_object(Bucket=bucket, Key=uploaded[0])["Body"].read()
    assert dump.startswith(b"PGDMP")  # pg_dump's custom format

    # Two more nights with nothing kept past 0 days: only the newest dump (and its manifest) stays.
    for _night in range(2):
        again = run(endpoint, bucket, tmp_path, BACKUP_KEEP_DAYS="0")
        assert again.returncode == 0, again.stderr
    remaining = keys(s3, bucket)
    assert len(remaining) == 2 and remaining[0] not in uploaded and remaining[1] == remaining[0] + ".manifest.json"
    assert len(list(tmp_path.glob("*.dump"))) == 2 and len(list(tmp_path.glob("*.manifest.json"))) == 2


def test_a_missing_bucket_or_database_fails_the_night(s3_server, tmp_path):
    endpoint, s3, bucket = s3_server
    no_bucket = run(endpoint, bucket, tmp_path / "a", BACKUP_S3_BUCKET="no-such-bucket")
    assert no_bucket.returncode != 0 and "failed" in no_bucket.stderr
    no_database = run(endpoint, bucket, tmp_path / "b", PGDATABASE="kompanion_no_such_database")
    assert no_database.returncode != 0
    assert keys(s3, bucket) == []
    assert list((tmp_path / "b").glob("*")) == []  # no half-written dump left behind
