"""Uploaded pictures in, clean JPEGs out.

Every picture a user uploads (profile photos, KTP, selfie) passes through here before it is stored:
the type is detected from the bytes (never the file name or the browser's content type), the size is
bounded before anything is decoded, and the stored file is a fresh JPEG encoded from pixel data only,
so no metadata survives (EXIF with GPS, XMP, ICC profiles, comments). Nothing here touches storage:
callers save the returned ContentFiles, so a refused file leaves nothing behind.
"""

import struct
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from companions.errors import CompanionError, PhotoRejected, VerificationError

MAX_UPLOAD_BYTES = settings.UPLOAD_MAX_FILE_BYTES  # 10 MB, in step with the request body limits
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")

PHOTO_MIN_SIDE = 400
PHOTO_MAX_SIDE = 1600
THUMBNAIL_MAX_SIDE = 480
PHOTO_QUALITY = 85

IDENTITY_MIN_SIDE = 600
IDENTITY_MAX_SIDE = 2400
# A little higher than photos: the reviewer must read the small print on a KTP.
IDENTITY_QUALITY = 90

OUTPUT_EXTENSION = "jpg"

# What Pillow raises for damaged or truncated files, depending on the format and the damage.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
# Pillow's own decompression-bomb guard (Image.MAX_IMAGE_PIXELS, about 89 megapixels: a warning above it,
# an error above twice it) fires inside Image.open, before our 40-megapixel check sees the size; the
# warning is an exception when warnings are errors (python -W error). Either way: too many pixels. So is
# running out of memory while decoding a picture within the limits.
_TOO_MANY_PIXELS_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError)

# Other picture formats people commonly try (GIF, BMP, TIFF, HEIC/AVIF from phones). Recognised by
# their first bytes only, never decoded, so the user hears "wrong format" rather than "not a picture".
_OTHER_IMAGE_SIGNATURES = (b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
_OTHER_IMAGE_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


@dataclass(frozen=True)
class ProcessedPhoto:
    """A profile photo ready to store: both files are metadata-free JPEGs named `photo.jpg`
    (the model's upload_to replaces the name). `width`/`height` are the large version's."""

    image: ContentFile
    thumbnail: ContentFile
    width: int
    height: int
    extension: str  # without the dot


def process_photo(upload: IO[bytes], *, field: str | None = None) -> ProcessedPhoto:
    """Check and re-encode a profile photo. Raises PhotoRejected (message safe to show)."""
    large = _decode(upload, min_side=PHOTO_MIN_SIDE, max_side=PHOTO_MAX_SIDE, error=PhotoRejected, field=field)
    thumbnail = _fit(large, THUMBNAIL_MAX_SIDE)
    return ProcessedPhoto(
        image=ContentFile(_encode_jpeg(large, quality=PHOTO_QUALITY), name=f"photo.{OUTPUT_EXTENSION}"),
        thumbnail=ContentFile(_encode_jpeg(thumbnail, quality=PHOTO_QUALITY), name=f"photo.{OUTPUT_EXTENSION}"),
        width=large.width,
        height=large.height,
        extension=OUTPUT_EXTENSION,
    )


def sanitize_identity_image(upload: IO[bytes], *, field: str | None = None) -> ContentFile:
    """Check and re-encode a KTP photo or a selfie with the KTP. Metadata goes too: GPS in a photo
    taken at home would reveal the address. Raises VerificationError (message safe to show)."""
    picture = _decode(
        upload, min_side=IDENTITY_MIN_SIDE, max_side=IDENTITY_MAX_SIDE, error=VerificationError, field=field
    )
    return ContentFile(_encode_jpeg(picture, quality=IDENTITY_QUALITY), name=f"identity.{OUTPUT_EXTENSION}")


def _decode(
    upload: IO[bytes], *, min_side: int, max_side: int, error: type[CompanionError], field: str | None
) -> Image.Image:
    """The upload as an upright RGB image in sRGB with no metadata, or `error` saying what is wrong."""

    def refuse(message: str) -> CompanionError:
        return error(message, field=field)

    too_large = _("The file is larger than %(megabytes)d MB. Please choose a smaller one.") % {
        "megabytes": MAX_UPLOAD_BYTES // (1024 * 1024)
    }
    too_many_pixels = _("The picture is larger than %(megapixels)d megapixels. Please choose a smaller one.") % {
        "megapixels": MAX_PIXELS // 1_000_000
    }
    damaged = _("The picture is damaged or incomplete. Please choose another file.")

    # The declared size first, then a bounded read: a size that lies cannot make us read more.
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise refuse(too_large)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise refuse(too_large)

    # Only the three plugins we accept ever look at the bytes.
    try:
        with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
            # The header alone gives the dimensions: refuse huge pictures before decoding a pixel.
            _check_dimensions(probe.size, min_side=min_side, refuse=refuse, too_many_pixels=too_many_pixels)
            probe.verify()
    except _TOO_MANY_PIXELS_ERRORS:
        # Pillow's own limit (far above ours) fired inside open(): same answer.
        raise refuse(too_many_pixels) from None
    except UnidentifiedImageError:
        if _looks_like_other_image(data):
            raise refuse(_("This picture format is not accepted. Please use a JPEG, PNG or WebP file.")) from None
        raise refuse(_("This file is not a picture. Please choose a JPEG, PNG or WebP file.")) from None
    except _DECODE_ERRORS:
        raise refuse(damaged) from None

    # verify() leaves the image unusable: open again to decode.
    try:
        with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            _check_dimensions(image.size, min_side=min_side, refuse=refuse, too_many_pixels=too_many_pixels)
            image.seek(0)  # animated PNG/WebP: the first frame
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale when that still covers the largest output,
            # so a 40-megapixel photo does not need 120 MB of memory. No effect on other formats.
            image.draft(
                None,
                (IDENTITY_MAX_SIDE, IDENTITY_MAX_SIDE)
                if min_side == IDENTITY_MIN_SIDE
                else (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE),
            )
            image.load()
            return _clean(image, max_side=max_side)
    except _TOO_MANY_PIXELS_ERRORS:
        raise refuse(too_many_pixels) from None
    except _DECODE_ERRORS:
        raise refuse(damaged) from None


def _check_dimensions(size: tuple[int, int], *, min_side: int, refuse, too_many_pixels: str) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise refuse(too_many_pixels)
    if min(width, height) < min_side:
        raise refuse(
            _(
                "The picture is too small: its shorter side must be at least %(minimum)d pixels "
                "(this one is %(actual)d). Please choose a larger one."
            )
            % {"minimum": min_side, "actual": min(width, height)}
        )


def _looks_like_other_image(data: bytes) -> bool:
    if data.startswith(_OTHER_IMAGE_SIGNATURES):
        return True
    # ISO base media (HEIC, AVIF): "....ftyp<brand>"
    return data[4:8] == b"ftyp" and data[8:12] in _OTHER_IMAGE_BRANDS


def _clean(image: Image.Image, *, max_side: int) -> Image.Image:
    """Shrunk to fit max_side, upright, RGB in sRGB, and a new image built from pixels alone (so `info`
    is empty: Pillow would otherwise copy a JPEG comment into the output).

    Shrinking comes first, so every later copy is small: a 40-megapixel picture is held at full size
    once, not once per step."""
    icc_profile = image.info.get("icc_profile")
    image = _to_resizable_mode(image)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)  # keeps `info`, so EXIF orientation
    try:
        upright = ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        # Unreadable EXIF: keep the picture as it is rather than refuse it.
        upright = image.copy()

    if upright.mode in ("RGBA", "LA"):
        flattened = Image.new("RGB", upright.size, (255, 255, 255))
        flattened.paste(upright.convert("RGBA"), mask=upright.getchannel("A"))
        upright = flattened

    rgb = _to_srgb(upright, icc_profile) if icc_profile else None
    if rgb is None:
        rgb = upright.convert("RGB")

    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def _to_resizable_mode(image: Image.Image) -> Image.Image:
    """Palette, 1-bit and 16-bit pictures in a mode that resizes smoothly (Pillow resizes palette images
    by picking pixels, and a plain convert of 16-bit greyscale clips everything above 255 to white)."""
    if image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode == "1":
        return image.convert("L")
    if image.mode.startswith("I"):
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image | None:
    """Convert from the embedded colour profile to sRGB, because the profile itself is dropped
    (a Display P3 photo would otherwise look dull). None when the profile cannot be used."""
    if image.mode not in ("RGB", "CMYK", "L"):
        return None
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _fit(image: Image.Image, max_side: int) -> Image.Image:
    """A copy that fits within max_side × max_side, aspect kept, never enlarged."""
    fitted = image.copy()
    fitted.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return fitted


def _encode_jpeg(image: Image.Image, *, quality: int) -> bytes:
    buffer = BytesIO()
    # No exif/icc_profile/comment arguments and an empty `info`: the file carries pixels only.
    image.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()
