"""Control and format characters never reach the database (issue 10, defect 16), and money is typed in
Rupiah the way people write it (defect 3).

The walk below imports every app's forms module, plus the sign-up form configured for allauth, finds
each form class, and proves on every text field that a hostile value (NUL, ESC, DEL, the right-to-left
override U+202E, zero-width and isolate characters, a BOM) is cleaned before the form hands it on, and
that line breaks survive only in multi-line fields. A new form, or a new text field, is covered
automatically; one the walk cannot fill fails loudly."""

import importlib
import inspect
from datetime import timedelta

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from core.forms import CleanTextMixin, RupiahField, clean_text, is_multiline_field, is_text_field
from tests.companions.helpers import listed_companion
from tests.factories import CompanionFactory, CustomerFactory

HOSTILE_BEFORE = "\u202e\u200b\u2066\ufeff"
HOSTILE_INSIDE = "\x00\x1b\x7f\u200d\u00ad\x07"
HOSTILE_AFTER = "\u2069\u202c\x1f"


def hostile(value: str) -> str:
    return HOSTILE_BEFORE + value[:1] + HOSTILE_INSIDE + value[1:] + HOSTILE_AFTER


def test_clean_text():
    assert clean_text("Budi\u202e Santoso\u200b") == "Budi Santoso"
    assert clean_text("\x1b[31mmerah\x1b[0m") == "[31mmerah[0m"  # ESC gone: the rest is harmless text
    assert clean_text("a\x00b\x7fc\u2066d\u2069") == "abcd"
    assert clean_text("satu\r\ndua\rtiga\u2028empat", multiline=True) == "satu\ndua\ntiga\nempat"
    assert clean_text("satu\r\ndua\ttiga") == "satu dua tiga"
    assert clean_text("Kopi ☕ di Café 🇮🇩 😀") == "Kopi ☕ di Café 🇮🇩 😀"
    assert clean_text("Cafe\u0301") == "Café"  # NFC
    assert clean_text("👩\u200d💻") == "👩💻"  # a ZWJ inside an emoji is dropped (accepted)
    assert clean_text("Ñoño Ümit Đặng Nguyễn") == "Ñoño Ümit Đặng Nguyễn"


# --- The walk -----------------------------------------------------------------------------------------


def project_form_classes() -> list[type[forms.BaseForm]]:
    found: dict[str, type] = {}
    for app in apps.get_app_configs():
        if not app.path.startswith(str(settings.BASE_DIR)) or "site-packages" in app.path:
            continue  # Django's and allauth's own forms are theirs; the sign-up form we define is added below
        # Forms live in forms modules; a few small ones (staff's reject and resolve forms, a page's query
        # form) sit beside the admin or view that uses them.
        for part in ("forms", "admin", "views"):
            try:
                module = importlib.import_module(f"{app.name}.{part}")
            except ModuleNotFoundError as error:
                if error.name != f"{app.name}.{part}":
                    raise
                continue
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__ and cls.base_fields:
                    found[f"{cls.__module__}.{cls.__name__}"] = cls
    signup = import_string(settings.ACCOUNT_FORMS["signup"])
    found[f"{signup.__module__}.{signup.__name__}"] = signup
    return [found[key] for key in sorted(found)]


FORM_CLASSES = project_form_classes()


def test_the_walk_finds_the_forms_people_type_into():
    names = {cls.__name__ for cls in FORM_CLASSES}
    assert {
        "SignupForm",
        "AccountSettingsForm",
        "ProfileForm",
        "TimeOffForm",
        "VerificationForm",
        "BookingRequestForm",
        "ReasonForm",
        "BankDetailsForm",
        "PayoutRequestForm",
        "RejectPayoutForm",
        "SearchForm",
    } <= names
    assert len(FORM_CLASSES) >= 20


@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_form_uses_the_one_cleaning(form_class):
    assert issubclass(form_class, CleanTextMixin)


def kwargs_for(form_class) -> dict:
    if form_class.__name__ == "BookingRequestForm":
        return {"profile": listed_companion(name="Ayu")}
    if form_class.__name__ == "PurchaseForm":
        return {"product": "sorotan"}
    if form_class.__name__ == "DashboardFilterForm":
        return {"today": timezone.localdate()}
    return {}


def candidates() -> list[str]:
    """Plausible valid values; each field is tried with them until one passes its own validation."""
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0).isoformat()
    from promotions.referrals import referral_code_for
    from tests.factories import UserFactory

    invitation = referral_code_for(UserFactory()).code  # the sign-up form's invitation code must exist
    return [
        "Budi Santoso",
        "budi.santoso@example.com",
        "0812 3456 7890",
        "123 456",
        "1234 567 890",
        "Kopi Tuku di Grand Indonesia",
        "5f0c6a3e-8a1b-4c6e-9d2f-0a1b2c3d4e5f",  # a form's idempotency key (chat's MessageForm)
        "Suka ngopi dan jalan-jalan keliling kota, senang menemani acara dan ngobrol santai.",
        start,
        invitation,
    ]


def cleaned_value(form_class, name: str, value: str):
    form = form_class(data={name: value}, **kwargs_for(form_class))
    form.is_valid()
    return form.cleaned_data.get(name, None) if name not in form.errors else None


def text_fields(form_class):
    form = form_class(**kwargs_for(form_class))
    return [(name, field) for name, field in form.fields.items() if is_text_field(field) and not field.disabled]


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_text_field_of_every_form_cleans_hostile_characters(form_class):
    problems = []
    with translation.override("en"):
        for name, field in text_fields(form_class):
            base = next((value for value in candidates() if cleaned_value(form_class, name, value)), None)
            if base is None:
                problems.append(f"{name}: no sample value passes its validation (add one to candidates())")
                continue
            expected = cleaned_value(form_class, name, base)
            got = cleaned_value(form_class, name, hostile(base))
            if got != expected:
                problems.append(f"{name}: {hostile(base)!r} cleaned to {got!r}, expected {expected!r}")
            if " " in base:
                broken = base.replace(" ", "\r\n", 1)
                got = cleaned_value(form_class, name, broken)
                if is_multiline_field(field):
                    if got is None or "\n" not in got or "\r" in got:
                        problems.append(f"{name} (multi-line): {broken!r} cleaned to {got!r}")
                elif got is None or "\n" in got or "\r" in got:
                    problems.append(f"{name} (one line): {broken!r} cleaned to {got!r}")
    assert not problems, f"{form_class.__name__}:\n" + "\n".join(problems)


def test_text_fields_are_found():
    """The walk must see text fields (not vacuously pass): e.g. the sign-up form's name and e-mail."""
    signup = next(cls for cls in FORM_CLASSES if cls.__name__ == "SignupForm")
    assert {"full_name", "email", "phone"} <= {name for name, _field in text_fields(signup)}
    # Passwords are left as typed: never shown, and they must match at login.
    assert "password1" not in {name for name, _field in text_fields(signup)}


def test_a_form_shown_again_shows_the_cleaned_text():
    from payments.forms import BankDetailsForm

    form = BankDetailsForm({"bank": "nope", "account_number": "1", "holder_name": "\u202eBudi\x00 Santoso"})
    assert not form.is_valid()
    assert 'value="Budi Santoso"' in str(form["holder_name"])


# --- Through the pages: what is stored ----------------------------------------------------------------


@pytest.mark.django_db
def test_sign_up_stores_a_clean_full_name_and_email(client):
    from accounts.models import User
    from tests.accounts.test_signup import sign_up

    response = sign_up(client, full_name="\x1b[31m\u202eRina\u200b Wulandari\x7f", email="rina\u200b@example.id")
    assert response.status_code == 302
    user = User.objects.get(email="rina@example.id")
    assert user.full_name == "[31mRina Wulandari"


@pytest.mark.django_db
def test_settings_store_a_clean_full_name(client):
    user = CustomerFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:settings"),
        {
            "full_name": "Rina\u202e\u2066 Wulandari\x00",
            "date_of_birth": user.date_of_birth.isoformat(),
            "preferred_language": "id",
            "time_zone": "Asia/Jakarta",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "Rina Wulandari"


@pytest.mark.django_db
def test_a_time_off_note_is_stored_clean(client):
    from companions.models import TimeOff
    from companions.services import profile_get_or_create

    profile = profile_get_or_create(user=CompanionFactory())
    client.force_login(profile.user)
    response = client.post(
        reverse("companions:time_off_add"),
        {"start_date": "2027-01-05", "end_date": "2027-01-06", "note": "Mudik\u202e\x1b ke\r\nSolo\u200b"},
    )
    assert response.status_code == 302
    assert TimeOff.objects.get(profile=profile).note == "Mudik ke Solo"


@pytest.mark.django_db
def test_bank_account_holder_name_is_stored_clean(client):
    from payments.models import BankAccount
    from payments.services import bank_account_save

    profile = listed_companion(name="Ayu")
    from payments.forms import BankDetailsForm

    form = BankDetailsForm(
        {"bank": "bca", "account_number": "123\u200b4567890", "holder_name": "Ayu\u202e Lestari\x00"}
    )
    assert form.is_valid(), form.errors
    bank_account_save(profile=profile, **form.cleaned_data)
    account = BankAccount.objects.get(profile=profile)
    assert (account.account_number, account.holder_name) == ("1234567890", "Ayu Lestari")


# --- Rupiah -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "175000",
        "175.000",
        "Rp 175.000",
        "Rp175.000",
        "175,000",
        "Rp. 175.000",
        "rp 175.000,-",
        " 175 000 ",
        "IDR 175000",
    ],
)
def test_rupiah_field_accepts(typed):
    assert RupiahField().clean(typed) == 175_000


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("175.000,50", "decimal"),
        ("1.75", "decimal"),
        ("175,5", "decimal"),
        ("-175000", "negative"),
        ("Rp -5", "negative"),
        ("abc", "invalid"),
        ("175.000.00", "decimal"),
        ("175,000.000", "decimal"),
        ("Rp 17O.000", "invalid"),
        ("175.000 IDR", "invalid"),
        ("9" * 14, "too_large"),
        ("", "required"),
    ],
)
def test_rupiah_field_refuses(typed, code):
    with pytest.raises(forms.ValidationError) as caught:
        RupiahField().clean(typed)
    assert caught.value.code == code


def test_rupiah_field_bounds_speak_rupiah():
    field = RupiahField(min_value=50_000, max_value=1_000_000)
    with translation.override("id"), pytest.raises(forms.ValidationError) as caught:
        field.clean("10.000")
    assert "Rp\u00a050.000" in caught.value.messages[0]
    with translation.override("en"):
        with pytest.raises(forms.ValidationError) as caught:
            field.clean("2.000.000")
        # Read inside the override: the message is translated when it is read.
        assert caught.value.messages == ["The amount can be at most Rp\u00a01,000,000."]


def test_rupiah_field_shows_a_number_grouped_and_typed_text_as_typed():
    field = RupiahField()
    with translation.override("id"):
        assert field.prepare_value(175_000) == "175.000"
    with translation.override("en"):
        assert field.prepare_value(175_000) == "175,000"
    assert field.prepare_value("Rp 175.000,50") == "Rp 175.000,50"


@pytest.mark.django_db
def test_the_payout_amount_uses_the_same_field():
    from payments.forms import PayoutRequestForm

    assert isinstance(PayoutRequestForm.base_fields["amount"], RupiahField)
    for typed in ("50000", "50.000", "Rp 50.000", "50,000"):
        form = PayoutRequestForm({"amount": typed})
        assert form.is_valid() and form.cleaned_data["amount"] == 50_000, typed
    form = PayoutRequestForm({"amount": "49.999"})
    assert not form.is_valid() and list(form.errors) == ["amount"]
