from datetime import date
from zoneinfo import ZoneInfo

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts import hooks, services
from accounts.models import Role, User
from accounts.phones import normalize_indonesian_mobile
from core.forms import CleanTextMixin, Form
from core.i18n import SUPPORTED_LANGUAGES, IndonesianTimeZone, Language

MINIMUM_AGE = 18
MAXIMUM_AGE = 100


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def validate_adult_birth_date(born: date, *, time_zone: str) -> None:
    today = timezone.localdate(timezone=ZoneInfo(time_zone))
    if born > today:
        raise forms.ValidationError(_("Your date of birth cannot be in the future."), code="future")
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < MINIMUM_AGE:
        raise forms.ValidationError(
            _("You must be at least %(age)d years old to use Kompanion."),
            code="underage",
            params={"age": MINIMUM_AGE},
        )
    if age > MAXIMUM_AGE:
        raise forms.ValidationError(_("Please check your date of birth."), code="implausible")


class PhoneField(forms.CharField):
    """Accepts 08…, 628…, +628… and cleans to E.164."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return normalize_indonesian_mobile(value)


class SignupForm(CleanTextMixin, AllauthSignupForm):
    """allauth's email + password sign-up, plus who the user is and what they consent to. Its text
    fields (allauth's e-mail too) are cleaned of control and format characters (core/forms.py)."""

    role = forms.ChoiceField(
        label=_("I want to"),
        choices=[
            (Role.CUSTOMER, _("Book companions")),
            (Role.COMPANION, _("Work as a companion")),
        ],
        widget=forms.RadioSelect,
        initial=Role.CUSTOMER,
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("As on your ID card (KTP)."),
    )
    phone = PhoneField(label=_("Mobile number (WhatsApp)"), help_text=_("For example 0812-3456-7890."))
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=DateInput(attrs={"autocomplete": "bday"}),
        help_text=_("You must be 18 or older."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=IndonesianTimeZone.choices, initial=IndonesianTimeZone.WIB
    )
    accept_terms = forms.BooleanField(
        label=_("I agree to the Terms of Service and the Privacy Policy."),
        error_messages={"required": _("You need to accept the Terms and the Privacy Policy to sign up.")},
    )
    whatsapp_opt_in = forms.BooleanField(
        label=_("Send me booking updates on WhatsApp (optional)."), required=False, initial=False
    )
    invitation_code = forms.CharField(
        label=_("Invitation code (optional)"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        help_text=_("From a friend's invitation link; it is filled in for you when you came through one."),
    )

    field_order = [
        "role",
        "full_name",
        "email",
        "phone",
        "date_of_birth",
        "time_zone",
        "password1",
        "password2",
        "accept_terms",
        "whatsapp_opt_in",
        "invitation_code",
    ]

    def clean_invitation_code(self) -> str:
        code = self.cleaned_data.get("invitation_code", "")
        error = hooks.invitation_error(code)
        if error:
            raise forms.ValidationError(error)
        return code

    def clean(self):
        cleaned = super().clean()
        born = cleaned.get("date_of_birth")
        if born is not None:
            try:
                validate_adult_birth_date(born, time_zone=cleaned.get("time_zone") or settings.DEFAULT_USER_TIME_ZONE)
            except forms.ValidationError as error:
                self.add_error("date_of_birth", error)
        return cleaned

    def save(self, request) -> User:
        language = get_language()
        with transaction.atomic():
            user = super().save(request)
            services.user_complete_signup(
                user=user,
                full_name=self.cleaned_data["full_name"].strip(),
                phone=self.cleaned_data["phone"],
                date_of_birth=self.cleaned_data["date_of_birth"],
                role=self.cleaned_data["role"],
                time_zone=self.cleaned_data["time_zone"],
                language=language if language in SUPPORTED_LANGUAGES else Language.INDONESIAN,
                whatsapp_opt_in=self.cleaned_data["whatsapp_opt_in"],
                meta=services.RequestMeta.from_request(request),
            )
            hooks.signed_up(user=user, invitation_code=self.cleaned_data.get("invitation_code", ""), request=request)
        return user


class AccountSettingsForm(Form):
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput(attrs={"autocomplete": "bday"}))
    preferred_language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=IndonesianTimeZone.choices)
    email_notifications = forms.BooleanField(label=_("Email me about my bookings and payments"), required=False)
    message_emails = forms.BooleanField(
        label=_("Email me about messages I have not read for 10 minutes"),
        required=False,
        help_text=_("With the sender's name only, never the message."),
    )
    whatsapp_opt_in = forms.BooleanField(
        label=_("Send me booking updates on WhatsApp."),
        required=False,
        help_text=_("Messages go only to a verified number. You can reply STOP at any time."),
    )

    def clean(self):
        cleaned = super().clean()
        born = cleaned.get("date_of_birth")
        if born is not None:
            try:
                validate_adult_birth_date(born, time_zone=cleaned.get("time_zone") or settings.DEFAULT_USER_TIME_ZONE)
            except forms.ValidationError as error:
                self.add_error("date_of_birth", error)
        return cleaned

    def __init__(self, *args, identity_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if identity_locked:
            # Checked against the KTP: submitted values are ignored (Django's disabled fields keep the
            # initial value), and the page says why.
            for name in ("full_name", "date_of_birth"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Checked against your KTP. Contact us if it needs to change.")

    @classmethod
    def initial_for(cls, user: User) -> dict:
        return {
            "full_name": user.full_name,
            "date_of_birth": user.date_of_birth,
            "preferred_language": user.preferred_language,
            "time_zone": user.time_zone,
            "email_notifications": user.email_notifications,
            "message_emails": user.message_emails,
            "whatsapp_opt_in": user.whatsapp_opt_in,
        }


class PhoneChangeForm(Form):
    phone = PhoneField(label=_("New mobile number (WhatsApp)"), help_text=_("For example 0812-3456-7890."))


class PhoneVerificationCodeForm(Form):
    """The 6-digit code we sent on WhatsApp (spaces and dashes from a paste are ignored)."""

    code = forms.CharField(
        label=_("6-digit code"),
        strip=True,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "maxlength": "6",
                "pattern": "[0-9]*",
                "class": "max-w-48 font-mono text-lg tracking-[0.3em]",
            }
        ),
        error_messages={"required": _("Enter the 6-digit code from WhatsApp.")},
    )

    def clean_code(self) -> str:
        code = "".join(character for character in self.cleaned_data["code"] if character not in " -")
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise forms.ValidationError(_("The code has 6 digits, for example 123456."), code="format")
        return code
