"""Uploaded pictures: detected by content, bounded before decoding, stored as clean JPEGs."""

import struct
import zlib
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image, ImageCms, ImageFile

from companions import images
from companions.errors import PhotoRejected, VerificationError
from companions.images import process_photo, sanitize_identity_image

RED = (220, 20, 20)
BLUE = (20, 20, 220)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture(autouse=True)
def _english_messages():
    """The messages are compared in English (the site default is Indonesian; both are translated)."""
    with translation.override("en"):
        yield


# Both entry points share the checks; each row: (function, its error, its minimum shorter side).
ENTRY_POINTS = [
    pytest.param(process_photo, PhotoRejected, images.PHOTO_MIN_SIDE, id="photo"),
    pytest.param(sanitize_identity_image, VerificationError, images.IDENTITY_MIN_SIDE, id="identity"),
]


def make_image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (800, 600), mode: str = "RGB", color=(200, 80, 40), **save_options
) -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims these dimensions and has no pixel data: decoding it would fail loudly."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))  # a few bytes where megabytes should be
        + chunk(b"IEND", b"")
    )


def half_red_half_blue(size=(800, 600)) -> Image.Image:
    """Left half red, right half blue: shows where the left edge went after rotation."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    return image


def close_to(pixel, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def assert_clean_jpeg(content) -> Image.Image:
    """The stored bytes are a JPEG carrying pixels only: no EXIF (GPS), XMP, ICC profile or comment."""
    data = content.read() if hasattr(content, "read") else content
    if hasattr(content, "seek"):
        content.seek(0)
    image = Image.open(BytesIO(data))
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert dict(image.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(image.info)
    for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap/1.0/", b"SecretCam", b"home sweet"):
        assert marker not in data
    return image


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
def test_a_text_file_named_like_a_photo_is_refused(function, error, min_side):
    with pytest.raises(error) as caught:
        function(upload(b"Hello, this is not a picture at all.\n" * 50, name="photo.jpg"))
    assert caught.value.message == "This file is not a picture. Please choose a JPEG, PNG or WebP file."


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
def test_an_upload_over_10_mb_is_refused_before_it_is_read(function, error, min_side):
    class HugeUpload(BytesIO):
        size = images.MAX_UPLOAD_BYTES + 1

        def read(self, *args):
            raise AssertionError("a file over the limit must not be read")

    with pytest.raises(error) as caught:
        function(HugeUpload())
    assert caught.value.message == "The file is larger than 10 MB. Please choose a smaller one."


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
def test_an_upload_whose_declared_size_lies_is_cut_off_at_the_limit(function, error, min_side):
    body = make_image_bytes(size=(800, 800)) + b"\x00" * images.MAX_UPLOAD_BYTES

    class LyingUpload(BytesIO):
        size = 1000
        reads: list = []

        def read(self, size=-1):
            self.reads.append(size)
            return super().read(size)

    lying = LyingUpload(body)
    with pytest.raises(error) as caught:
        function(lying)
    assert caught.value.message == "The file is larger than 10 MB. Please choose a smaller one."
    assert lying.reads == [images.MAX_UPLOAD_BYTES + 1]


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
def test_a_picture_over_40_megapixels_is_refused_before_decoding(function, error, min_side, monkeypatch):
    # 8000 × 6000 = 48 MP of one colour: a PNG of a few kilobytes.
    data = make_image_bytes("PNG", size=(8000, 6000), mode="1", color=1)
    assert len(data) < 100_000

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(error) as caught:
        function(upload(data, name="big.png"))
    assert caught.value.message == "The picture is larger than 40 megapixels. Please choose a smaller one."


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8000, 6000),  # over our limit: only the header is read (there are no pixels to decode)
        (20000, 10000),  # over Pillow's own decompression-bomb limit, which fires inside Image.open
    ],
)
def test_a_header_claiming_huge_dimensions_is_refused(function, error, min_side, width, height):
    with pytest.raises(error) as caught:
        function(upload(png_header_only(width, height), name="bomb.png"))
    assert caught.value.message == "The picture is larger than 40 megapixels. Please choose a smaller one."


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_a_real_picture_in_another_format_is_refused(function, error, min_side, fmt):
    data = make_image_bytes(fmt, size=(1000, 1000))
    Image.open(BytesIO(data)).load()  # a valid picture, just not one we accept
    with pytest.raises(error) as caught:
        function(upload(data, name="photo.jpg"))
    assert caught.value.message == "This picture format is not accepted. Please use a JPEG, PNG or WebP file."


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
def test_a_picture_below_the_minimum_size_is_refused_and_says_so(function, error, min_side):
    with pytest.raises(error) as caught:
        function(upload(make_image_bytes(size=(min_side - 1, 2000))))
    assert caught.value.message == (
        f"The picture is too small: its shorter side must be at least {min_side} pixels "
        f"(this one is {min_side - 1}). Please choose a larger one."
    )


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
def test_a_picture_exactly_at_the_minimum_size_is_accepted(function, error, min_side):
    color = (200, 80, 40)
    result = function(upload(make_image_bytes(size=(min_side, min_side), color=color)))

    if function is process_photo:
        # Below both the large and the thumbnail bounds: neither version is enlarged or shrunk.
        assert (result.width, result.height, result.extension) == (min_side, min_side, "jpg")
        assert (result.image.name, result.thumbnail.name) == ("photo.jpg", "photo.jpg")
        stored = [result.image, result.thumbnail]
    else:
        assert result.name == "identity.jpg"
        stored = [result]
    for content in stored:
        picture = assert_clean_jpeg(content)
        assert picture.size == (min_side, min_side)
        assert close_to(picture.getpixel((min_side // 2, min_side // 2)), color, tolerance=4)


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_picture_is_refused(function, error, min_side, fmt):
    noise = Image.effect_noise((1200, 1200), 80).convert("RGB")  # noise: the data is not tiny
    buffer = BytesIO()
    noise.save(buffer, format=fmt)
    data = buffer.getvalue()
    with pytest.raises(error) as caught:
        function(upload(data[: len(data) // 2]))
    assert caught.value.message == "The picture is damaged or incomplete. Please choose another file."


def test_each_reason_has_its_own_message():
    attempts = [
        b"not a picture",
        make_image_bytes("GIF", size=(1000, 1000)),
        png_header_only(8000, 6000),
        make_image_bytes(size=(100, 100)),
        make_image_bytes(size=(1000, 1000))[:300],
    ]
    messages = set()
    for data in attempts:
        with pytest.raises(PhotoRejected) as caught:
            process_photo(upload(data))
        messages.add(caught.value.message)
    assert len(messages) == len(attempts)


def test_a_refusal_names_the_form_field_when_asked():
    with pytest.raises(VerificationError) as caught:
        sanitize_identity_image(upload(b"nope"), field="ktp_image")
    assert caught.value.field == "ktp_image"


# --- what is stored -----------------------------------------------------------------------------------


def jpeg_with_gps_and_orientation() -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the camera was turned: show the picture rotated 90° clockwise
    exif[0x010F] = "SecretCam"  # Make
    exif[GPS_IFD] = {1: "S", 2: (6.0, 10.0, 30.0), 3: "E", 4: (106.0, 49.0, 40.0)}  # Jakarta
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = BytesIO()
    half_red_half_blue((800, 600)).save(
        buffer,
        format="JPEG",
        exif=exif,
        icc_profile=icc,
        comment=b"home sweet home",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>home</x:xmpmeta>",
    )
    data = buffer.getvalue()
    # The input really carries what must disappear.
    source = Image.open(BytesIO(data))
    assert source.getexif().get_ifd(GPS_IFD)[1] == "S"
    assert {"exif", "icc_profile", "xmp", "comment"} <= set(source.info)
    return data


def assert_rotated_clockwise(image: Image.Image) -> None:
    """The 800 × 600 source, turned 90° clockwise: portrait, with its left (red) half now on top."""
    assert image.height > image.width
    assert close_to(image.getpixel((image.width // 2, image.height // 4)), RED)
    assert close_to(image.getpixel((image.width // 2, image.height * 3 // 4)), BLUE)


def test_photo_loses_all_metadata_and_is_turned_upright():
    processed = process_photo(upload(jpeg_with_gps_and_orientation()))

    large = assert_clean_jpeg(processed.image)
    thumbnail = assert_clean_jpeg(processed.thumbnail)
    assert_rotated_clockwise(large)
    assert_rotated_clockwise(thumbnail)
    assert (processed.width, processed.height) == large.size == (600, 800)
    assert processed.extension == "jpg"
    assert processed.image.name == "photo.jpg"


def test_identity_image_loses_all_metadata_and_is_turned_upright():
    sanitized = sanitize_identity_image(upload(jpeg_with_gps_and_orientation()))

    image = assert_clean_jpeg(sanitized)
    assert_rotated_clockwise(image)
    assert image.size == (600, 800)
    assert sanitized.name.endswith(".jpg")


def test_photo_sizes_fit_their_bounds_and_keep_the_aspect():
    processed = process_photo(upload(make_image_bytes(size=(3000, 2000))))

    large = Image.open(processed.image)
    thumbnail = Image.open(processed.thumbnail)
    assert large.size == (processed.width, processed.height) == (1600, 1067)
    assert thumbnail.size == (480, 320)
    assert large.info.get("progressive") == 1


def test_a_tall_photo_fits_by_its_height():
    processed = process_photo(upload(make_image_bytes(size=(1000, 5000))))
    assert (processed.width, processed.height) == (320, 1600)
    assert Image.open(processed.thumbnail).size == (96, 480)


def test_a_small_photo_is_not_enlarged():
    processed = process_photo(upload(make_image_bytes(size=(450, 420))))
    assert (processed.width, processed.height) == (450, 420)
    assert Image.open(processed.thumbnail).size == (450, 420)


def test_identity_image_fits_within_2400():
    sanitized = sanitize_identity_image(upload(make_image_bytes(size=(6000, 4000))))
    assert Image.open(sanitized).size == (2400, 1600)


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
def test_png_with_transparency_is_flattened_on_white(function, error, min_side):
    source = Image.new("RGBA", (800, 800), (0, 0, 0, 0))  # fully transparent ...
    source.paste((20, 20, 220, 255), (0, 0, 400, 800))  # ... except an opaque blue left half
    buffer = BytesIO()
    source.save(buffer, format="PNG")

    result = function(upload(buffer.getvalue(), name="me.png", content_type="image/png"))

    stored = assert_clean_jpeg(result.image if hasattr(result, "image") else result)
    assert close_to(stored.getpixel((stored.width // 4, stored.height // 2)), BLUE)
    assert close_to(stored.getpixel((stored.width * 3 // 4, stored.height // 2)), (255, 255, 255), tolerance=5)


def test_a_palette_png_with_a_transparent_colour_is_flattened_on_white():
    source = Image.new("P", (800, 800), 0)
    source.putpalette([255, 0, 255] + [20, 20, 220] + [0, 0, 0] * 254)
    source.paste(1, (0, 0, 400, 800))  # left half: palette entry 1 (blue); right half: entry 0 ...
    buffer = BytesIO()
    source.save(buffer, format="PNG", transparency=0)  # ... which is transparent

    stored = assert_clean_jpeg(process_photo(upload(buffer.getvalue())).image)

    assert close_to(stored.getpixel((200, 400)), BLUE)
    assert close_to(stored.getpixel((600, 400)), (255, 255, 255), tolerance=5)


def test_an_unusable_colour_profile_is_dropped_not_refused():
    data = make_image_bytes(size=(800, 800), color=RED, icc_profile=b"not a colour profile")
    stored = assert_clean_jpeg(process_photo(upload(data)).image)
    assert close_to(stored.getpixel((400, 400)), RED)


@pytest.mark.parametrize(("function", "error", "min_side"), ENTRY_POINTS)
def test_webp_is_accepted(function, error, min_side):
    result = function(upload(make_image_bytes("WEBP", size=(900, 700), color=RED), name="me.webp"))

    stored = assert_clean_jpeg(result.image if hasattr(result, "image") else result)
    assert stored.size == (900, 700)
    assert close_to(stored.getpixel((10, 10)), RED)


def test_the_name_and_content_type_the_browser_sends_do_not_matter():
    data = make_image_bytes("PNG", size=(800, 800), color=RED)
    processed = process_photo(upload(data, name="holiday.gif", content_type="text/plain"))
    assert assert_clean_jpeg(processed.image).size == (800, 800)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animated_picture_keeps_its_first_frame(fmt):
    frames = [Image.new("RGB", (800, 800), color) for color in (RED, BLUE, (20, 220, 20))]
    buffer = BytesIO()
    frames[0].save(buffer, format=fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(BytesIO(buffer.getvalue())).n_frames == 3

    processed = process_photo(upload(buffer.getvalue()))

    stored = assert_clean_jpeg(processed.image)
    assert close_to(stored.getpixel((400, 400)), RED)


def test_a_cmyk_jpeg_is_stored_as_rgb():
    data = make_image_bytes("JPEG", size=(800, 800), mode="CMYK", color=(0, 0, 0, 0))  # white
    stored = assert_clean_jpeg(process_photo(upload(data)).image)
    assert close_to(stored.getpixel((400, 400)), (255, 255, 255), tolerance=5)


def test_a_16_bit_greyscale_png_keeps_its_tones():
    data = make_image_bytes("PNG", size=(800, 800), mode="I;16", color=32768)  # mid-grey
    stored = assert_clean_jpeg(process_photo(upload(data)).image)
    assert close_to(stored.getpixel((400, 400)), (128, 128, 128), tolerance=3)


def test_a_large_jpeg_is_decoded_at_reduced_scale():
    """A JPEG far larger than the output is decoded at 1/2, 1/4 or 1/8 scale; the result is still
    exactly the size asked for."""
    processed = process_photo(upload(make_image_bytes(size=(7000, 5000))))
    assert (processed.width, processed.height) == (1600, 1143)
