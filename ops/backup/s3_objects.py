#!/usr/bin/env python3
"""The nightly dumps in the backup bucket (boto3; no Django, so it runs in the backup image and in a checkout).

    s3_objects.py upload FILE...                 upload under the prefix, each checked by its size afterwards
    s3_objects.py prune --keep-days 14           delete dumps (and their manifests) older than that; the
                                                 newest dump is never deleted, however old
    s3_objects.py latest --to DIR                download the newest dump and its manifest; prints the dump's path
    s3_objects.py list                           the dumps, newest first

Environment: BACKUP_S3_BUCKET (required), BACKUP_S3_ENDPOINT (MinIO: https://minio:9000; unset: AWS),
BACKUP_S3_REGION, BACKUP_S3_ACCESS_KEY and BACKUP_S3_SECRET_KEY (unset: the instance role), BACKUP_S3_CA_FILE
(MinIO's self-signed certificate), BACKUP_S3_PREFIX (default dumps/), BACKUP_S3_SSE (AES256 or aws:kms: the
objects are encrypted at rest by the store). Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

DUMP_SUFFIX = ".dump"
MANIFEST_SUFFIX = ".dump.manifest.json"


def client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ.get("BACKUP_S3_ENDPOINT") or None,
        region_name=os.environ.get("BACKUP_S3_REGION") or "us-east-1",
        aws_access_key_id=os.environ.get("BACKUP_S3_ACCESS_KEY") or None,
        aws_secret_access_key=os.environ.get("BACKUP_S3_SECRET_KEY") or None,
        verify=os.environ.get("BACKUP_S3_CA_FILE") or None,
        config=Config(
            s3={"addressing_style": "path" if os.environ.get("BACKUP_S3_ENDPOINT") else "auto"},
            connect_timeout=10,
            read_timeout=120,
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )


def bucket() -> str:
    name = os.environ.get("BACKUP_S3_BUCKET", "")
    if not name:
        raise SystemExit("set BACKUP_S3_BUCKET")
    return name


def prefix() -> str:
    value = os.environ.get("BACKUP_S3_PREFIX", "dumps/")
    return value if value.endswith("/") else value + "/"


def objects(s3) -> list[dict]:
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket(), Prefix=prefix()):
        found.extend(page.get("Contents", []))
    return found


def dumps(s3) -> list[dict]:
    """The dump objects, newest first."""
    return sorted(
        (item for item in objects(s3) if item["Key"].endswith(DUMP_SUFFIX)),
        key=lambda item: item["LastModified"],
        reverse=True,
    )


def upload(s3, paths: list[Path]) -> None:
    extra = {"ServerSideEncryption": os.environ["BACKUP_S3_SSE"]} if os.environ.get("BACKUP_S3_SSE") else {}
    for path in paths:
        key = prefix() + path.name
        s3.upload_file(str(path), bucket(), key, ExtraArgs=extra or None)
        stored = s3.head_object(Bucket=bucket(), Key=key)["ContentLength"]
        if stored != path.stat().st_size:
            raise SystemExit(f"{key}: {stored} bytes stored, {path.stat().st_size} sent")
        print(f"uploaded s3://{bucket()}/{key} ({stored} bytes)")


def prune(s3, keep_days: int, now: datetime | None = None) -> list[str]:
    now = now or datetime.now(UTC)
    all_dumps = dumps(s3)
    newest = all_dumps[0]["Key"] if all_dumps else None
    cutoff = now - timedelta(days=keep_days)
    deleted = []
    for item in all_dumps:
        if item["Key"] != newest and item["LastModified"] < cutoff:
            manifest = item["Key"][: -len(DUMP_SUFFIX)] + MANIFEST_SUFFIX
            s3.delete_objects(
                Bucket=bucket(), Delete={"Objects": [{"Key": item["Key"]}, {"Key": manifest}], "Quiet": True}
            )
            deleted.append(item["Key"])
    for key in deleted:
        print(f"deleted s3://{bucket()}/{key} (older than {keep_days} days)")
    return deleted


def latest(s3, directory: Path) -> Path:
    all_dumps = dumps(s3)
    if not all_dumps:
        raise SystemExit(f"no dump under s3://{bucket()}/{prefix()}")
    key = all_dumps[0]["Key"]
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / Path(key).name
    s3.download_file(bucket(), key, str(target))
    manifest_key = key[: -len(DUMP_SUFFIX)] + MANIFEST_SUFFIX
    try:
        s3.download_file(bucket(), manifest_key, str(directory / Path(manifest_key).name))
    except ClientError:
        print(f"warning: no manifest {manifest_key}; the drill then needs --source-db", file=sys.stderr)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upload").add_argument("paths", nargs="+", type=Path)
    commands.add_parser("prune").add_argument("--keep-days", type=int, required=True)
    commands.add_parser("latest").add_argument("--to", type=Path, required=True)
    commands.add_parser("list")
    options = parser.parse_args(argv)
    s3 = client()
    try:
        if options.command == "upload":
            upload(s3, options.paths)
        elif options.command == "prune":
            prune(s3, options.keep_days)
        elif options.command == "latest":
            print(latest(s3, options.to))
        else:
            for item in dumps(s3):
                print(f"{item['LastModified'].isoformat()}  {item['Size']:>12}  {item['Key']}")
    except (Boto3Error, BotoCoreError, ClientError, OSError) as error:
        print(f"{options.command} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
