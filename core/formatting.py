"""Pure formatting helpers for Indonesian display conventions."""

import phonenumbers

NBSP = "\u00a0"


def format_rupiah(amount: int, *, language: str = "id") -> str:
    separator = "," if language.startswith("en") else "."
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,}".replace(",", separator)
    return f"{sign}Rp{NBSP}{digits}"


def format_phone_national(e164: str) -> str:
    """Groups an Indonesian mobile number the way people write it: 0812-3456-7890."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code != 62:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = "0" + str(number.national_number)
    groups = [national[:4], national[4:8], national[8:]]
    return "-".join(group for group in groups if group)
