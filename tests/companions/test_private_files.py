"""KTP and selfie images: the owner and staff get them; everyone else, visitors included, gets 404."""

import logging
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from companions.models import CompanionProfile, IdentityFileView, IdentityVerification
from tests.factories import CompanionFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.companions.urls_private")]

NIK = "3171234567890001"
PUBLIC_GRANTEES = {
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}


@pytest.fixture
def photo_verification(companion, photo_jpeg_bytes) -> IdentityVerification:
    profile = CompanionProfile.objects.create(user=companion, slug="sari")
    return IdentityVerification.objects.create(
        profile=profile,
        nik=NIK,
        nik_last4=NIK[-4:],
        nik_fingerprint="x",
        ktp_image=ContentFile(photo_jpeg_bytes(color=(10, 200, 10)), "ktp.jpg"),
        selfie_image=ContentFile(photo_jpeg_bytes(color=(200, 10, 10)), "selfie.jpg"),
    )


def file_url(verification: IdentityVerification, kind: str = "ktp") -> str:
    return reverse("identity_file", kwargs={"pk": verification.pk, "kind": kind})


def stored_bytes(field_file) -> bytes:
    with field_file.storage.open(field_file.name, "rb") as handle:
        return handle.read()


def assert_private_headers(response) -> None:
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "no-referrer"


# --- local / in-memory storage ------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "field_name"), [("ktp", "ktp_image"), ("selfie", "selfie_image")])
def test_the_owner_gets_the_file(client, companion, photo_verification, kind, field_name):
    client.force_login(companion)

    response = client.get(file_url(photo_verification, kind))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored_bytes(getattr(photo_verification, field_name))
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == "inline"
    assert_private_headers(response)


def test_staff_get_the_file(client, staff, photo_verification):
    client.force_login(staff)

    response = client.get(file_url(photo_verification))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored_bytes(photo_verification.ktp_image)
    assert_private_headers(response)


def test_each_staff_view_is_recorded_for_the_owner_s_export(client, staff, companion, photo_verification):
    client.force_login(staff)
    client.get(file_url(photo_verification, "ktp"))
    client.get(file_url(photo_verification, "selfie"))
    client.get(file_url(photo_verification, "ktp"))
    client.force_login(companion)
    client.get(file_url(photo_verification, "ktp"))  # the owner's own look is not "staff opened it"

    views = IdentityFileView.objects.filter(verification=photo_verification).order_by("pk")
    assert [(view.viewer_id, view.kind) for view in views] == [
        (staff.pk, "ktp"),
        (staff.pk, "selfie"),
        (staff.pk, "ktp"),
    ]


def test_a_refused_view_records_nothing(client, customer, photo_verification):
    client.force_login(customer)

    assert client.get(file_url(photo_verification)).status_code == 404
    assert not IdentityFileView.objects.exists()


@pytest.mark.parametrize("who", ["another_companion", "customer", "staff_without_two_factor", "inactive_staff"])
def test_anyone_else_signed_in_gets_404(client, customer, photo_verification, who):
    user = {
        "another_companion": CompanionFactory,
        "customer": lambda: customer,
        # Staff see ID images through the same gate as the admin: active, with two-factor login.
        "staff_without_two_factor": StaffFactory,
        "inactive_staff": lambda: StaffFactory(is_active=False),
    }[who]()
    client.force_login(user)

    response = client.get(file_url(photo_verification))

    assert response.status_code == 404


def test_a_visitor_gets_404_not_a_login_redirect(client, photo_verification):
    response = client.get(file_url(photo_verification))
    assert response.status_code == 404


@pytest.mark.parametrize("kind", ["passport", "KTP", "nik", "ktp_image"])
def test_an_unknown_kind_is_404_even_for_the_owner(client, companion, photo_verification, kind):
    client.force_login(companion)
    assert client.get(file_url(photo_verification, kind)).status_code == 404


def test_an_unknown_verification_is_404_like_a_forbidden_one(client, companion, photo_verification):
    client.force_login(companion)
    response = client.get(reverse("identity_file", kwargs={"pk": photo_verification.pk + 1000, "kind": "ktp"}))
    assert response.status_code == 404


def test_a_file_missing_from_storage_is_404(client, companion, photo_verification):
    photo_verification.ktp_image.storage.delete(photo_verification.ktp_image.name)
    client.force_login(companion)
    assert client.get(file_url(photo_verification)).status_code == 404


def test_only_get_and_head_are_allowed(client, companion, photo_verification):
    client.force_login(companion)
    assert client.head(file_url(photo_verification)).status_code == 200
    assert client.post(file_url(photo_verification)).status_code == 405


def test_the_nik_is_never_logged(client, companion, staff, photo_verification, caplog):
    caplog.set_level(logging.DEBUG)
    for user in (companion, staff):
        client.force_login(user)
        client.get(file_url(photo_verification))
    client.logout()
    client.get(file_url(photo_verification))

    assert "identity file served" in caplog.text  # an access trail exists ...
    assert NIK not in caplog.text  # ... without the NIK
    assert NIK[:12] not in caplog.text


# --- S3 (moto's server mode: a real local S3 endpoint) ----------------------------------------------


@pytest.fixture
def s3_verification(s3_storages, companion, photo_jpeg_bytes) -> IdentityVerification:
    profile = CompanionProfile.objects.create(user=companion, slug="sari-s3")
    return IdentityVerification.objects.create(
        profile=profile,
        nik=NIK,
        nik_last4=NIK[-4:],
        nik_fingerprint="x",
        ktp_image=ContentFile(photo_jpeg_bytes(color=(10, 200, 10)), "ktp.jpg"),
        selfie_image=ContentFile(photo_jpeg_bytes(color=(200, 10, 10)), "selfie.jpg"),
    )


def fetch(url: str) -> tuple[int, bytes, dict]:
    """GET with no credentials at all, as a browser following the redirect would."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our moto endpoint)
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_s3_files_are_stored_privately_under_private(s3_verification, s3_client, s3_bucket):
    keys = sorted(obj["Key"] for obj in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"])

    assert keys == sorted([f"private/{s3_verification.ktp_image.name}", f"private/{s3_verification.selfie_image.name}"])
    for key in keys:
        assert key.startswith("private/identity/") and key.endswith(".jpg")
        grants = s3_client.get_object_acl(Bucket=s3_bucket, Key=key)["Grants"]
        assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
        assert not {grant["Grantee"].get("URI") for grant in grants} & PUBLIC_GRANTEES
        assert s3_client.head_object(Bucket=s3_bucket, Key=key)["CacheControl"] == "private, no-store"


def test_s3_owner_is_redirected_to_a_short_lived_signed_url(client, companion, s3_verification, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(companion)

    response = client.get(file_url(s3_verification))

    assert response.status_code == 302
    assert_private_headers(response)
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert urlsplit(location).path.endswith(f"/private/{s3_verification.ktp_image.name}")
    assert query["X-Amz-Expires"] == ["180"]  # three minutes, as PRIVATE_URL_EXPIRY_SECONDS
    assert query["X-Amz-Signature"][0]
    assert query["response-cache-control"] == ["no-store, private"]
    # The signed URL works, and S3 sends the picture with no-store too.
    status, body, headers = fetch(location)
    assert status == 200
    assert body == stored_bytes(s3_verification.ktp_image)
    assert headers["Cache-Control"] == "no-store, private"
    # Neither the signature nor the NIK reaches our logs or Django's (botocore's own DEBUG output and
    # moto's access log, which this test also captures, are not the application's logs).
    application_log = "\n".join(
        record.getMessage() for record in caplog.records if record.name.partition(".")[0] in {"companions", "django"}
    )
    assert "identity file served" in application_log
    assert query["X-Amz-Signature"][0] not in application_log
    assert NIK not in application_log


def test_s3_staff_are_redirected_too(client, staff, s3_verification):
    client.force_login(staff)
    response = client.get(file_url(s3_verification, "selfie"))
    assert response.status_code == 302
    assert fetch(response["Location"])[0] == 200


def test_s3_anyone_else_gets_404(client, customer, s3_verification):
    client.force_login(CompanionFactory())
    assert client.get(file_url(s3_verification)).status_code == 404
    client.force_login(customer)
    assert client.get(file_url(s3_verification)).status_code == 404
    client.logout()
    assert client.get(file_url(s3_verification)).status_code == 404


def test_s3_the_object_cannot_be_fetched_without_a_signature(client, companion, s3_verification):
    """moto's server enforces object ACLs for anonymous requests (checked: a public-read object is
    served, a private one is 403), so this is a real check, not just an assertion on the ACL.

    moto does NOT check presigned URLs, though: a tampered signature or an expired URL is still served
    (checked with moto 5.2). The signature and the 180-second expiry are therefore asserted on the URL
    (test above); that S3 enforces them is AWS's part."""
    client.force_login(companion)
    signed = urlsplit(client.get(file_url(s3_verification))["Location"])
    unsigned = urlunsplit((signed.scheme, signed.netloc, signed.path, "", ""))

    status, body, _headers = fetch(unsigned)

    assert status == 403
    assert body != stored_bytes(s3_verification.ktp_image)
