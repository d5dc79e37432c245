import re

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.formatting import format_rupiah
from core.forms import Form, RupiahField
from payments.banks import BANKS
from payments.models import PAYOUT_MINIMUM


class BankDetailsForm(Form):
    bank = forms.ChoiceField(label=_("Bank"), choices=[("", _("Choose your bank"))] + BANKS)
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    holder_name = forms.CharField(
        label=_("Account holder name"),
        max_length=100,
        help_text=_("Exactly as printed in your bank book."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_account_number(self) -> str:
        # People copy numbers with spaces or dashes ("123-456 789"): keep the digits.
        number = re.sub(r"[\s.-]", "", self.cleaned_data["account_number"])
        if not re.fullmatch(r"[0-9]{6,20}", number):
            raise forms.ValidationError(_("Enter the account number as 6 to 20 digits."))
        return number

    def clean_holder_name(self) -> str:
        name = " ".join(self.cleaned_data["holder_name"].split())
        if len(name) < 3:
            raise forms.ValidationError(_("Enter the account holder's full name."))
        return name


class PayoutRequestForm(Form):
    # "Rp 150.000", "150000" and "150,000" all mean the same whole-Rupiah amount (core/forms.py).
    amount = RupiahField(
        label=_("Amount (Rp)"),
        min_value=PAYOUT_MINIMUM,
        widget=forms.TextInput(attrs={"placeholder": "50.000"}),
        error_messages={"min_value": _("The minimum payout is Rp 50.000.")},
    )


class TransferReferenceForm(Form):
    reference = forms.CharField(label=_("Bank transfer reference"), min_length=4, max_length=64)


class RejectPayoutForm(Form):
    reason = forms.CharField(label=_("Reason (the companion sees it)"), min_length=5, max_length=300)


class PurchaseForm(Form):
    """Buying a package of a paid product: which one, and (Sorotan) how to pay."""

    package = forms.ModelChoiceField(label=_("Package"), queryset=None, widget=forms.RadioSelect, empty_label=None)
    method = forms.ChoiceField(label=_("Pay with"), widget=forms.RadioSelect)

    def __init__(self, *args, product: str, **kwargs):
        from products.models import Package, Purchase

        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = Package.objects.filter(product=product, active=True).order_by("days")
        language = get_language() or "id"
        # "Sorotan 7 hari · Rp 75.000": what it is and what it costs, on the choice itself.
        self.fields["package"].label_from_instance = lambda package: (
            f"{package.name} · {format_rupiah(package.price, language=language)}"
        )
        methods = [(Purchase.Method.GATEWAY, _("Online payment (QRIS, e-wallet, bank transfer, card)"))]
        if product == "sorotan":
            methods.append((Purchase.Method.EARNINGS, _("From my available earnings")))
        self.fields["method"].choices = methods
        self.fields["method"].initial = Purchase.Method.GATEWAY
