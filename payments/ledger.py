"""The double-entry ledger (DESIGN.md section 2): every money movement is a journal whose entries sum
to zero; balances are sums over entries, never stored numbers. Posting is idempotent by reference.

Standard journals (T = booking total, E = companion earnings):
  payment settled      Dr provider_clearing T       Cr escrow:booking T
  booking completed    Dr escrow:booking T          Cr companion_payable E, Cr platform_revenue T − E
  booking cancelled    Dr escrow:booking T          Cr refunds_payable R, Cr companion_payable E',
   or resolved                                      Cr platform_revenue T − R − E'
  refund sent          Dr refunds_payable R         Cr provider_clearing R (gateway) or Cr bank R (manual)
  payout paid          Dr companion_payable P       Cr bank P
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum

from payments.models import AccountKind, Entry, Journal, LedgerAccount

PROVIDER_CLEARING = "provider_clearing"
BANK = "bank"
PLATFORM_REVENUE = "platform_revenue"
REFUNDS_PAYABLE = "refunds_payable"

FIXED_ACCOUNTS = {
    PROVIDER_CLEARING: AccountKind.ASSET,
    BANK: AccountKind.ASSET,
    PLATFORM_REVENUE: AccountKind.REVENUE,
    REFUNDS_PAYABLE: AccountKind.LIABILITY,
}


class LedgerError(Exception):
    pass


def escrow_account(booking_id: int) -> str:
    return f"escrow:booking:{booking_id}"


def companion_payable_account(profile_id: int) -> str:
    return f"companion_payable:{profile_id}"


def deferred_account(purchase_id: int) -> str:
    """A paid product's price not yet earned: recognised as platform revenue day by day over its period."""
    return f"deferred:purchase:{purchase_id}"


def _kind_of(key: str) -> str:
    if key in FIXED_ACCOUNTS:
        return FIXED_ACCOUNTS[key]
    if key.startswith(("escrow:", "companion_payable:", "deferred:")):
        return AccountKind.LIABILITY
    raise LedgerError(f"unknown ledger account {key!r}")


def _account(key: str) -> LedgerAccount:
    defaults = {"kind": _kind_of(key)}
    if key.startswith("escrow:booking:"):
        defaults["booking_id"] = int(key.rsplit(":", 1)[1])
    elif key.startswith("companion_payable:"):
        defaults["profile_id"] = int(key.rsplit(":", 1)[1])
    account, _created = LedgerAccount.objects.get_or_create(key=key, defaults=defaults)
    return account


@dataclass(frozen=True)
class Line:
    account: str
    amount: int  # debit > 0, credit < 0


def post(*, reference: str, kind: str, lines: Iterable[Line], memo: str = "") -> tuple[Journal, bool]:
    """Posts a balanced journal once. Returns (journal, created); a second call with the same
    reference returns the first journal and posts nothing (after checking it is the same movement)."""
    lines = [line for line in lines if line.amount]
    if not lines:
        raise LedgerError("a journal needs at least one non-zero line")
    if any(not isinstance(line.amount, int) or isinstance(line.amount, bool) for line in lines):
        raise LedgerError("amounts are whole Rupiah (int)")
    if sum(line.amount for line in lines) != 0:
        raise LedgerError(f"journal {reference} does not balance: {sum(line.amount for line in lines)}")
    existing = Journal.objects.filter(reference=reference).first()
    if existing is not None:
        _check_same(existing, lines)
        return existing, False
    try:
        with transaction.atomic():
            journal = Journal.objects.create(reference=reference, kind=kind, memo=memo)
            Entry.objects.bulk_create(
                [Entry(journal=journal, account=_account(line.account), amount=line.amount) for line in lines]
            )
    except IntegrityError:
        # Posted concurrently by another worker for the same event: that one counts.
        existing = Journal.objects.get(reference=reference)
        _check_same(existing, lines)
        return existing, False
    return journal, True


def transfer(*, reference: str, kind: str, debit: str, credit: str, amount: int, memo: str = "") -> Journal:
    """The common two-line journal: `amount` from `credit` to `debit` (Dr debit, Cr credit)."""
    journal, _created = post(
        reference=reference, kind=kind, lines=[Line(debit, amount), Line(credit, -amount)], memo=memo
    )
    return journal


def _check_same(journal: Journal, lines: list[Line]) -> None:
    posted = sorted(journal.entries.values_list("account__key", "amount"))
    if posted != sorted((line.account, line.amount) for line in lines):
        raise LedgerError(f"journal {journal.reference} was already posted with other amounts")


def balance(account: str) -> int:
    """The account's balance in its normal direction (debit for assets, credit for the others)."""
    total = Entry.objects.filter(account__key=account).aggregate(total=Sum("amount"))["total"] or 0
    return total if _kind_of(account) == AccountKind.ASSET else -total


def unbalanced_journals() -> list[str]:
    """References of journals whose entries do not sum to zero (should always be empty)."""
    return list(
        Journal.objects.annotate(total=Sum("entries__amount")).exclude(total=0).values_list("reference", flat=True)
    )


@dataclass(frozen=True)
class CheckReport:
    journals: int
    entries: int
    total: int  # the sum of every entry: 0 when every journal balances
    unbalanced: list[str]
    by_kind: dict[str, int]  # balances per account kind in their normal direction

    @property
    def balanced(self) -> bool:
        return not self.unbalanced and self.total == 0


def check() -> CheckReport:
    """The "ledger balanced" proof for the command and the admin page."""
    totals = Entry.objects.values("account__kind").annotate(total=Sum("amount"))
    by_kind = {
        row["account__kind"]: row["total"] if row["account__kind"] == AccountKind.ASSET else -row["total"]
        for row in totals
    }
    return CheckReport(
        journals=Journal.objects.count(),
        entries=Entry.objects.count(),
        total=Entry.objects.aggregate(total=Sum("amount"))["total"] or 0,
        unbalanced=unbalanced_journals(),
        by_kind=by_kind,
    )
