"""Issue 11, failure 4: every parser of untrusted input turns any failure into a clear 4xx.

The Midtrans webhook (JSON), the Twilio webhooks (forms), the picture uploads (multipart and images)
and every other page (by Content-Length): each hostile body gets an exact 4xx in the endpoint's own
format, and nothing is stored. Query strings are walked by tests/test_hostile_queries.py.

Verdicts kept: a Midtrans body that is not a notification is 400 and recorded nowhere; a notification
with a bad signature is 403 and recorded as forged (tests/payments/test_webhook.py). A Twilio form
with a bad signature stays 403."""

import json
import struct
import zlib
from datetime import date
from io import BytesIO
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.utils import translation
from PIL import Image

from companions import images
from companions.models import CompanionPhoto, CompanionProfile, IdentityVerification
from companions.services import profile_get_or_create
from core.http import MAX_JSON_DEPTH, MalformedBody, parse_json
from notifications.models import Delivery, InboundMessage
from notifications.views import MAX_TWILIO_BODY_BYTES
from payments import services as payment_services
from payments.models import Entry, PaymentNotification
from payments.views import MAX_BODY_BYTES
from tests.factories import CompanionFactory
from tests.notifications.fake_twilio import INBOUND_URL, FakeTwilio
from tests.payments.helpers import accepted_on_the_real_clock

pytestmark = pytest.mark.django_db

MIDTRANS_URL = "/webhooks/midtrans/"
TWILIO_INBOUND_PATH = "/webhooks/twilio/inbound/"
TWILIO_STATUS_PATH = "/webhooks/twilio/status/"
PHOTOS_URL = "/companion/photos/"
VERIFICATION_URL = "/companion/verification/"
BOUNDARY = "----KompanionTestBoundary"
MB = 1024 * 1024


class UnreadableInput:
    """A wsgi.input that fails the test if anything reads it: proves a refusal came before the read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


class CountingInput(BytesIO):
    """A wsgi.input that remembers how many bytes were read from it."""

    bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- The Midtrans webhook (JSON) ------------------------------------------------------------------------


@pytest.fixture
def payment():
    return payment_services.payment_create(booking=accepted_on_the_real_clock())


def payment_state(payment):
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    return payment.status, payment.booking.status, Entry.objects.count(), PaymentNotification.objects.count()


def post_json(client, body: bytes, **extra):
    return client.generic("POST", MIDTRANS_URL, data=body, content_type="application/json", **extra)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 20_000 + b"]" * 20_000, id="20000-nested-arrays"),  # 40 KB, under the 64 KB limit
        pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, id="10000-nested-objects"),
        pytest.param(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), id="one-level-too-deep"),
        pytest.param(b'{"order_id": "KMP-\xff\xfe", "status_code": "200"}', id="not-utf-8"),
        pytest.param(b"\xef\xbb\xbf{}", id="utf-8-bom"),
        pytest.param(b"1" * 5000, id="a-number-too-long-to-convert"),
    ],
)
def test_a_body_that_cannot_be_parsed_is_400_json_and_changes_nothing(client, payment, body):
    """Before: the nested ones raised RecursionError (HTML 500); non-UTF-8 was decoded with replacement
    characters and recorded as a forged notification (403)."""
    before = payment_state(payment)
    response = post_json(client, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "error", "reason": "not JSON"}
    assert payment_state(payment) == before


def test_nesting_within_the_depth_limit_is_parsed(client, payment):
    """The depth guard refuses only what no notification looks like: this is JSON, just no notification."""
    body = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    response = post_json(client, body)
    assert (response.status_code, response.json()["reason"]) == (400, "not a notification")


def test_brackets_inside_strings_do_not_count_as_nesting():
    value, text = parse_json(json.dumps({"note": "[" * 1000 + '\\"{' * 1000}).encode())
    assert value == {"note": "[" * 1000 + '\\"{' * 1000}
    assert text.startswith('{"note"')


@pytest.mark.parametrize("error", [RecursionError, MemoryError, ValueError])
def test_any_failure_of_the_json_parser_is_malformed_body(monkeypatch, error):
    def failing_loads(text):
        raise error("boom")

    monkeypatch.setattr("core.http.json.loads", failing_loads)
    with pytest.raises(MalformedBody):
        parse_json(b'{"a": 1}')


@pytest.mark.parametrize("declared", [MAX_BODY_BYTES + 1, 6 * MB, 10**12])
def test_a_body_over_the_limit_by_content_length_is_413_json_without_being_read(client, payment, declared):
    """Before: 6 MB got Django's HTML 400 (DATA_UPLOAD_MAX_MEMORY_SIZE), and anything over 64 KB was
    read whole before the size was checked."""
    before = payment_state(payment)
    response = post_json(client, b"{}", CONTENT_LENGTH=str(declared), **{"wsgi.input": UnreadableInput()})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "error", "reason": "too large"}
    assert payment_state(payment) == before


def test_a_body_exactly_at_the_limit_is_read_and_one_byte_more_is_not(client, payment):
    prefix, suffix = b'{"padding": "', b'"}'
    at_limit = prefix + b"x" * (MAX_BODY_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(at_limit) == MAX_BODY_BYTES
    assert post_json(client, at_limit).json() == {"status": "error", "reason": "not a notification"}
    over = post_json(client, at_limit + b" ")
    assert (over.status_code, over.json()["reason"]) == (413, "too large")
    assert PaymentNotification.objects.count() == 0


def test_a_content_length_shorter_than_the_body_is_read_no_further(client, payment):
    """The rest of a lying body is never read: what was declared is all we take (here: not JSON)."""
    stream = CountingInput(b'{"order_id": ' + b" " * (2 * MB))
    before = payment_state(payment)
    response = post_json(client, b"{}", CONTENT_LENGTH="12", **{"wsgi.input": stream})
    assert (response.status_code, response.json()["reason"]) == (400, "not JSON")
    assert stream.bytes_read <= 12
    assert payment_state(payment) == before


def test_a_body_without_content_length_is_not_read(client, payment):
    """A chunked body (no Content-Length): under WSGI Django reads none of it, so it is an empty body."""
    stream = CountingInput(b"[" * 100_000)
    response = post_json(client, b"{}", CONTENT_LENGTH="", **{"wsgi.input": stream})
    assert (response.status_code, response.json()["reason"]) == (400, "not JSON")
    assert stream.bytes_read == 0
    assert PaymentNotification.objects.count() == 0


# --- The Twilio webhooks (forms) ------------------------------------------------------------------------


@pytest.fixture
def twilio():
    # Only its signing is used: its HTTP server is never started here.
    return FakeTwilio(account_sid="AC" + "0" * 32, auth_token=settings.TWILIO_AUTH_TOKEN)


def twilio_rows():
    return InboundMessage.objects.count(), Delivery.objects.count()


def signed_post(client, twilio, path: str, body: bytes, params: dict, *, content_type: str):
    return client.generic(
        "POST",
        path,
        data=body,
        content_type=content_type,
        headers={"X-Twilio-Signature": twilio.sign(f"http://testserver{path}", params)},
    )


@pytest.mark.parametrize("path", [TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH])
def test_a_twilio_form_with_too_many_fields_is_400_plain(client, twilio, path):
    """Before: Django's TooManyFieldsSent came out of the signature check as Django's HTML 400 page."""
    params = {f"field{number}": "x" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    body = urlencode(params).encode()
    assert len(body) < MAX_TWILIO_BODY_BYTES  # refused for its fields, not its size
    response = signed_post(client, twilio, path, body, params, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert twilio_rows() == (0, 0)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x"])
def test_a_twilio_callback_that_is_not_a_form_is_415(client, twilio, content_type):
    """Before: a JSON body parsed as an empty form, and a signature over no fields let it through."""
    response = signed_post(
        client, twilio, TWILIO_INBOUND_PATH, b'{"From": "whatsapp:+6281100000001"}', {}, content_type=content_type
    )
    assert response.status_code == 415
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert twilio_rows() == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\xff\xfe\x00garbage%%%&&==&%zz", id="binary-garbage"),
        pytest.param(b"From=whatsapp%3A%2B62811&Body=%E0%A4&MessageSid=SM1%", id="broken-escapes"),
        pytest.param(b"&&&===&", id="only-separators"),
    ],
)
def test_a_garbage_twilio_form_without_a_valid_signature_stays_403(client, body):
    response = client.generic(
        "POST",
        TWILIO_INBOUND_PATH,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "bm90LWEtc2lnbmF0dXJl"},
    )
    assert response.status_code == 403
    assert twilio_rows() == (0, 0)


def test_a_twilio_body_over_the_limit_is_413_without_being_read(client):
    response = client.generic(
        "POST",
        TWILIO_INBOUND_PATH,
        data=b"From=x",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(MAX_TWILIO_BODY_BYTES + 1),
        **{"wsgi.input": UnreadableInput()},
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert twilio_rows() == (0, 0)


def test_a_signed_twilio_form_still_goes_through(client, twilio):
    params = twilio.inbound_params("+6281100000001", "Halo")
    response = twilio.post(client, INBOUND_URL, params)
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    assert twilio_rows() == (1, 0)


# --- Picture uploads (multipart and images) -------------------------------------------------------------


def jpeg(size=(800, 700)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares these dimensions, with a few bytes where the pixels should be."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def png_bomb() -> bytes:
    """A real, valid PNG made by Pillow: 8000 × 6000 one-bit pixels (48 megapixels, over our 40) that
    takes a few kilobytes on disk and would take 144 MB of memory decoded as RGB."""
    buffer = BytesIO()
    Image.new("1", (8000, 6000), 0).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def multipart(fields: dict, files: dict, *, cut_at: int | None = None) -> bytes:
    """A multipart body as a browser sends it; cut_at keeps only that many bytes (a truncated upload)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, data) in files.items():
        head = (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name={json.dumps(name)}; "
            f"filename={json.dumps(filename)}\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body if cut_at is None else body[:cut_at]


def post_multipart(client, url: str, body: bytes):
    return client.generic("POST", url, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def stored_files() -> list[str]:
    """Every file in both storages (the tests use in-memory storages)."""

    def walk(storage, path=""):
        directories, files = storage.listdir(path)
        found = [f"{path}/{name}" for name in files]
        for directory in directories:
            found += walk(storage, f"{path}/{directory}".lstrip("/"))
        return found

    return sorted(walk(storages["default"]) + walk(storages["private"]))


def upload_state():
    return CompanionPhoto.objects.count(), IdentityVerification.objects.count(), stored_files()


@pytest.fixture
def companion_client(client):
    """A companion born on 21 April 1996, a woman: VALID_NIK is hers. Pages in English."""
    user = CompanionFactory(date_of_birth=date(1996, 4, 21))
    CompanionProfile.objects.filter(pk=profile_get_or_create(user=user).pk).update(gender="female")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


VALID_NIK = "3174016104960001"


def photo_body(data: bytes, **kwargs) -> bytes:
    return multipart({}, {"photo": ("photo.jpg", data)}, **kwargs)


def verification_body(ktp: bytes, selfie: bytes, *, selfie_name: str = "selfie.jpg", **kwargs) -> bytes:
    files = {"ktp_image": ("ktp.jpg", ktp), "selfie_image": (selfie_name, selfie)}
    return multipart({"nik": VALID_NIK}, files, **kwargs)


def test_the_well_formed_uploads_are_taken(companion_client):
    """The control for the tests below: the same bodies, complete, store what they carry."""
    assert post_multipart(companion_client, PHOTOS_URL, photo_body(jpeg())).status_code == 302
    response = post_multipart(companion_client, VERIFICATION_URL, verification_body(jpeg(), jpeg()))
    assert response.status_code == 302
    assert CompanionPhoto.objects.count() == 1 and IdentityVerification.objects.count() == 1


def test_a_file_input_left_empty_is_the_forms_error_not_a_400(companion_client):
    """A browser sends an empty part (filename "") for a file input left empty: that is a complete body,
    so the form says what is missing."""
    before = upload_state()
    response = post_multipart(companion_client, VERIFICATION_URL, verification_body(jpeg(), b"", selfie_name=""))
    assert response.status_code == 422
    assert response.context["form"].errors["selfie_image"] == ["This field is required."]
    assert upload_state() == before


def truncated(full: bytes, cut_inside: bytes) -> bytes:
    """full, cut 300 bytes into the file named cut_inside."""
    return full[: full.index(cut_inside) + 300]


@pytest.mark.parametrize(
    ("url", "body_and_cut"),
    [
        pytest.param(PHOTOS_URL, lambda: (photo_body(jpeg()), b"photo.jpg"), id="photo"),
        pytest.param(VERIFICATION_URL, lambda: (verification_body(jpeg(), jpeg()), b"ktp.jpg"), id="ktp-in-ktp"),
        pytest.param(VERIFICATION_URL, lambda: (verification_body(jpeg(), jpeg()), b"selfie.jpg"), id="ktp-in-selfie"),
    ],
)
def test_an_upload_cut_off_inside_a_file_is_a_400_page_and_stores_nothing(companion_client, url, body_and_cut):
    """The body ends in the middle of a file (a connection cut mid-upload). Before: Django dropped the
    half file silently and the page answered 200 as if nothing had been sent."""
    full, cut_inside = body_and_cut()
    before = upload_state()
    response = post_multipart(companion_client, url, truncated(full, cut_inside))
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"The request could not be read" in response.content
    assert upload_state() == before


@pytest.mark.parametrize(
    ("url", "field", "make_body"),
    [
        pytest.param(PHOTOS_URL, "photo", photo_body, id="photo"),
        pytest.param(VERIFICATION_URL, "ktp_image", lambda bomb: verification_body(bomb, jpeg()), id="ktp"),
        pytest.param(VERIFICATION_URL, "selfie_image", lambda bomb: verification_body(jpeg(), bomb), id="selfie"),
    ],
)
@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(lambda png_bomb: png_header_only(100_000, 100_000), id="header-declaring-100000x100000"),
        pytest.param(lambda png_bomb: png_bomb, id="real-png-decompression-bomb"),
    ],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_bomb_is_the_forms_field_error_and_stores_nothing(
    companion_client, png_bomb, url, field, make_body, bomb
):
    """Refused from the header, before a pixel is decoded: the page again (422) with the field's error."""
    data = bomb(png_bomb)
    assert len(data) < 100 * 1024  # small on disk
    before = upload_state()
    response = post_multipart(companion_client, url, make_body(data))
    assert response.status_code == 422
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.context["form"].errors[field] == [
        f"The picture is larger than {images.MAX_PIXELS // 1_000_000} megapixels. Please choose a smaller one."
    ]
    assert upload_state() == before


# --- Every other page: the global limit, in step with Django's --------------------------------------------


@pytest.mark.parametrize("url", [PHOTOS_URL, VERIFICATION_URL, "/accounts/login/"])
def test_a_body_over_the_global_limit_is_a_413_page_without_being_read(companion_client, url):
    """Before: the body was read (and parsed) whatever its declared size."""
    before = upload_state()
    response = companion_client.generic(
        "POST",
        url,
        data=b"x",
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(settings.REQUEST_MAX_BODY_BYTES + 1),
        **{"wsgi.input": UnreadableInput()},
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"a picture can be at most 10 MB" in response.content
    assert upload_state() == before


def test_the_limits_are_in_step():
    """Pictures (10 MB, two on the KTP form) fit under the global limit; Django's limit on non-file data
    sits above both webhook limits (so theirs answer, in their format) and below the global one."""
    assert images.MAX_UPLOAD_BYTES == settings.UPLOAD_MAX_FILE_BYTES == 10 * MB
    assert settings.REQUEST_MAX_BODY_BYTES >= 2 * images.MAX_UPLOAD_BYTES + 64 * 1024  # two pictures + fields
    assert max(MAX_BODY_BYTES, MAX_TWILIO_BODY_BYTES) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < settings.REQUEST_MAX_BODY_BYTES
    assert settings.FILE_UPLOAD_HANDLERS[-1] == "core.http.RefuseInterruptedUploads"
