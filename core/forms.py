"""What every form of the project shares: clean free text, and one Rupiah field.

Free text. Every form inherits `CleanTextMixin` (through `Form` and `ModelForm` below, or mixed into a
third-party form such as allauth's sign-up form). Before its fields are validated, the form cleans the
submitted value of each of its text fields (every `CharField`, so also e-mail, slug and URL fields)
with `clean_text()`:
- control characters (Unicode category Cc: NUL, ESC of an ANSI sequence, DEL, ...) and format
  characters (Cf: the bidi overrides U+202A–U+202E and U+2066–U+2069, zero-width spaces and joiners,
  the soft hyphen, the BOM, ...) are removed, and so are surrogates and private-use characters;
- a tab becomes a space; a line break (CR LF, CR, LF, U+2028, U+2029, NEL) becomes "\n" in a
  multi-line field (a `Textarea`) and a space everywhere else;
- the text is put in Unicode NFC form (an "é" typed as e + accent equals the one-key "é").
Stripping is kinder than refusing: zero-width characters ride along with text pasted from chat apps.
Emoji stay; a zero-width joiner inside an emoji sequence (👩‍💻) is dropped, so that shows as two emoji.
Passwords are left exactly as typed: they are never shown, and must match what the user types at login.

Because the cleaned values replace the submitted ones in `form.data`, a form shown again after an
error shows the cleaned text, never the hidden characters.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.formatting import format_rupiah

# Categories removed outright: control, format, surrogate, private use.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_LINE_BREAKS = re.compile("\r\n|[\r\n\u0085\u2028\u2029\x0b\x0c]")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """`value` without control or format characters; line breaks kept as "\n" only if `multiline`."""
    value = _LINE_BREAKS.sub("\n" if multiline else " ", value)
    value = value.replace("\t", " ")
    kept = (
        character
        for character in value
        if character == "\n" or unicodedata.category(character) not in _REMOVED_CATEGORIES
    )
    return unicodedata.normalize("NFC", "".join(kept))


def is_text_field(field: forms.Field) -> bool:
    return isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput)


def is_multiline_field(field: forms.Field) -> bool:
    return isinstance(field.widget, forms.Textarea)


class CleanTextMixin:
    """Cleans every text field's submitted value with `clean_text()` before validation (see above)."""

    def full_clean(self):
        if self.is_bound:
            self.data = self._cleaned_text_data()
        super().full_clean()

    def _cleaned_text_data(self):
        data = self.data.copy()  # a QueryDict copy is mutable; a dict copy is a new dict
        for name, field in self.fields.items():
            if not is_text_field(field) or field.disabled:
                continue
            key = self.add_prefix(name)
            if key not in data:
                continue
            multiline = is_multiline_field(field)
            if hasattr(data, "setlist"):
                values = data.getlist(key)
                data.setlist(key, [clean_text(v, multiline=multiline) if isinstance(v, str) else v for v in values])
            elif isinstance(data[key], str):
                data[key] = clean_text(data[key], multiline=multiline)
        return data


class Form(CleanTextMixin, forms.Form):
    """The project's plain form: text fields cleaned of control and format characters."""


class ModelForm(CleanTextMixin, forms.ModelForm):
    """The project's model form: text fields cleaned of control and format characters."""


# --- Money -------------------------------------------------------------------------------------------

# What people type for an amount: "Rp", "Rp." or "IDR" in front (optional), then whole Rupiah as plain
# digits or with thousands grouped by dots (Indonesian) or commas (English), one kind per amount.
_PREFIX = re.compile(r"^(?:rp\.?|idr)\s*", re.IGNORECASE)
_PLAIN = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?:(?P<separator>[.,])[0-9]{3})(?:(?P=separator)[0-9]{3})*")
_NO_CENTS = re.compile(r"[.,]-$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
RUPIAH_MAX_DIGITS = 13  # up to Rp 9.999.999.999.999: anything longer is a typo, not an amount


class RupiahField(forms.Field):
    """A whole-Rupiah amount, as an int. Accepts "175000", "175.000", "175,000", "Rp 175.000",
    "Rp175.000"; refuses decimals ("175.000,50", "1.75"), negative amounts and absurd lengths. On an
    error the form shows back exactly what was typed; an amount from the database is shown grouped in
    the page's language ("175.000" in Indonesian)."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": _("Enter an amount in whole Rupiah, for example 150.000."),
        "decimal": _("Enter whole Rupiah, without cents, for example 150.000."),
        "negative": _("The amount cannot be negative."),
        "too_large": _("This amount is too large."),
        "min_value": _("The amount must be at least %(limit)s."),
        "max_value": _("The amount can be at most %(limit)s."),
    }

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None, **kwargs):
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})
        return attrs

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int):
            return value
        text = _SPACES.sub("", clean_text(str(value)))
        if not text:
            return None
        text = _PREFIX.sub("", text)
        if text.startswith(("-", "\u2212")):
            raise forms.ValidationError(self.error_messages["negative"], code="negative")
        text = _NO_CENTS.sub("", text)  # "150.000,-" is how a price is often written
        if _PLAIN.fullmatch(text) or _GROUPED.fullmatch(text):
            digits = text.replace(".", "").replace(",", "")
        elif re.fullmatch(r"[0-9]+(?:[.,][0-9]+)+", text):
            # "175.000,50", "1.75", "175,5": something after a separator that is not a group of three.
            raise forms.ValidationError(self.error_messages["decimal"], code="decimal")
        else:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(digits.lstrip("0")) > RUPIAH_MAX_DIGITS:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        return int(digits)

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        language = get_language() or "id"
        if self.min_value is not None and value < self.min_value:
            limit = format_rupiah(self.min_value, language=language)
            raise forms.ValidationError(self.error_messages["min_value"], code="min_value", params={"limit": limit})
        if self.max_value is not None and value > self.max_value:
            limit = format_rupiah(self.max_value, language=language)
            raise forms.ValidationError(self.error_messages["max_value"], code="max_value", params={"limit": limit})

    def prepare_value(self, value):
        # An int (initial or the model's) is shown grouped; a typed string is shown as typed.
        if isinstance(value, int) and not isinstance(value, bool):
            separator = "," if (get_language() or "id").startswith("en") else "."
            return f"{value:,}".replace(",", separator)
        return value
