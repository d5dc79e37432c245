"""How a payout's money leaves: an adapter chosen by settings.PAYOUT_DISBURSEMENT.

The default, "manual", is a person making the bank transfer and typing its reference; the adapter
just checks and returns it. A licensed disbursement API (e.g. Midtrans Payouts / Iris) plugs in here
as another adapter with the same `disburse` call, without touching the payout flow in services."""

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from payments.errors import PaymentError


@dataclass(frozen=True)
class PayoutInstruction:
    payout_id: int
    amount: int
    bank: str
    account_number: str
    holder_name: str
    reference: str = ""  # the transfer reference, when a person already made the transfer


@dataclass(frozen=True)
class DisbursementResult:
    reference: str


class Disbursement(Protocol):
    def disburse(self, instruction: PayoutInstruction) -> DisbursementResult: ...


class ManualTransfer:
    """Staff transfer the money from the company's bank account and record the reference here."""

    def disburse(self, instruction: PayoutInstruction) -> DisbursementResult:
        reference = instruction.reference.strip()
        if len(reference) < 4:
            raise PaymentError(_("Enter the bank transfer reference."), field="reference")
        return DisbursementResult(reference=reference[:64])


ADAPTERS = {"manual": ManualTransfer}


def get_disbursement() -> Disbursement:
    return ADAPTERS[settings.PAYOUT_DISBURSEMENT]()
