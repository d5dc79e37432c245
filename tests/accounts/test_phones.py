import pytest
from django.core.exceptions import ValidationError

from accounts.phones import normalize_indonesian_mobile
from core.formatting import format_phone_national


@pytest.mark.parametrize(
    "typed",
    [
        "081234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "6281234567890",
        "62 812 3456 7890",
        "+6281234567890",
        "+62 812-3456-7890",
        "(+62) 812.3456.7890",
    ],
)
def test_indonesian_forms_are_normalised_to_e164(typed):
    assert normalize_indonesian_mobile(typed) == "+6281234567890"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "hello",
        "12345",
        "0812",
        "+1 202 555 0143",  # valid, but not Indonesian
        "+44 7911 123456",
        "08123456789012345",  # too long
        "0812-3456-7890; DROP TABLE",
    ],
)
def test_anything_else_is_refused_with_a_clear_message(typed):
    with pytest.raises(ValidationError) as caught:
        normalize_indonesian_mobile(typed)
    assert caught.value.code == "invalid_phone"
    assert caught.value.messages == ["Masukkan nomor HP Indonesia, misalnya 0812-3456-7890 atau +62 812-3456-7890."]


def test_a_jakarta_landline_is_refused_as_not_mobile():
    with pytest.raises(ValidationError) as caught:
        normalize_indonesian_mobile("021-5551234")
    assert caught.value.code in {"not_mobile", "invalid_phone"}


def test_display_format_groups_like_people_write_it():
    assert format_phone_national("+6281234567890") == "0812-3456-7890"
