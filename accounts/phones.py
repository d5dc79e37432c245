"""Indonesian mobile numbers: what people type in, E.164 out."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

E164_PATTERN = r"^\+[1-9][0-9]{7,14}$"
_SEPARATORS = re.compile(r"[\s().\-/]")

INVALID_PHONE_MESSAGE = _("Enter an Indonesian mobile number, for example 0812-3456-7890 or +62 812-3456-7890.")


def normalize_indonesian_mobile(raw: str) -> str:
    """Accepts 08…, 628… and +628… (with spaces, dashes, dots or brackets); returns +628… (E.164).

    Raises ValidationError for anything that is not a valid Indonesian mobile number: WhatsApp
    and verification codes need a mobile line, and Kompanion serves Indonesia only.
    """
    cleaned = _SEPARATORS.sub("", raw or "")
    if cleaned.startswith("62"):
        cleaned = "+" + cleaned
    if not re.fullmatch(r"\+?[0-9]{8,16}", cleaned):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    try:
        number = phonenumbers.parse(cleaned, "ID")
    except phonenumbers.NumberParseException as error:
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone") from error
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            _("This looks like a landline. Enter a mobile number that can receive WhatsApp."),
            code="not_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
