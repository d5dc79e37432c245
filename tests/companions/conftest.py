"""Fixtures for the picture and private-file tests (prefixed photo_/s3_ so they clash with nothing)."""

import uuid
from collections.abc import Callable, Iterator
from io import BytesIO

import boto3
import pytest
from django.core.files.storage import storages
from moto.server import ThreadedMotoServer
from PIL import Image

from companions.models import IdentityVerification

S3_REGION = "ap-southeast-3"
S3_ACCESS_KEY = "testing-access-key"
S3_SECRET_KEY = "testing-secret-key"  # moto accepts any pair
S3_EXPIRY_SECONDS = 180


@pytest.fixture
def photo_jpeg_bytes() -> Callable[[tuple[int, int], tuple[int, int, int]], bytes]:
    """jpeg(size=(800, 600), color=(200, 80, 40)) -> the bytes of a plain JPEG."""

    def jpeg(size: tuple[int, int] = (800, 600), color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
        buffer = BytesIO()
        Image.new("RGB", size, color).save(buffer, format="JPEG")
        return buffer.getvalue()

    return jpeg


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real local S3 endpoint (moto's server mode) on a free port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )


@pytest.fixture
def s3_bucket(s3_client) -> str:
    name = f"kompanion-test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    return name


@pytest.fixture
def s3_storages(settings, monkeypatch, s3_endpoint, s3_bucket):
    """STORAGES as base.py builds them when AWS_STORAGE_BUCKET_NAME is set, pointed at moto.

    Overriding settings.STORAGES resets Django's storage handler (django.test.signals.storages_changed),
    but a FileField resolves a callable `storage` once, when the model class is built, so the ID image
    fields keep the in-memory storage from test.py: point them at the new private storage for this test.
    """
    common = {
        "region_name": S3_REGION,
        "endpoint_url": s3_endpoint,
        "access_key": S3_ACCESS_KEY,
        "secret_key": S3_SECRET_KEY,
        "file_overwrite": False,
        "signature_version": "s3v4",
    }
    settings.STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **common,
                "bucket_name": s3_bucket,
                "location": "public",
                "default_acl": None,
                "querystring_auth": False,
                "custom_domain": None,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
        "private": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **common,
                "bucket_name": s3_bucket,
                "location": "private",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": S3_EXPIRY_SECONDS,
                "object_parameters": {"CacheControl": "private, no-store"},
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    private = storages["private"]
    for field_name in ("ktp_image", "selfie_image"):
        monkeypatch.setattr(IdentityVerification._meta.get_field(field_name), "storage", private)
    return private
