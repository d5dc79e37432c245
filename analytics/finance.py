"""The monthly finance statement (issue 18), read from the ledger only (payments/ledger.py).

A month is a calendar month in Jakarta time; a journal belongs to the month its `created_at` (the time it
was posted) falls in. Every figure is a sum of ledger entries, in the account's normal direction:

- revenue by kind: credits to platform_revenue grouped by the journal's kind (booking_completed,
  booking_cancelled, booking_resolved: fee + commission net of discounts as settlement posts them;
  purchase_recognised: paid products earned day by day);
- refunds sent: debits to refunds_payable by "refund_sent" journals;
- companion earnings: credits to companion_payable:* by the booking settlement journals (booking_*);
- payouts paid: debits to companion_payable:* by "payout_paid" journals;
- escrow and deferred revenue at month end: the balances of every escrow:* and deferred:* account over
  the journals posted before the month's end.

`Statement.check()` recomputes the same figures from the Entry rows one by one (in Python, not in SQL),
checks that every journal of the month balances and that each month-end balance is the previous one plus
the month's movement, and returns the mismatches; `monthly_statement` stores them on the statement so a
page or an export shows them. Nothing is ever adjusted to hide a difference."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum

from payments import ledger
from payments.models import Entry, Journal

WIB = ZoneInfo("Asia/Jakarta")
ESCROW_PREFIX = "escrow:"
DEFERRED_PREFIX = "deferred:"
PAYABLE_PREFIX = "companion_payable:"
SETTLEMENT_PREFIX = "booking_"  # booking_completed / booking_cancelled / booking_resolved (payments/settlement.py)
REFUND_SENT = "refund_sent"
PAYOUT_PAID = "payout_paid"


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month in Jakarta time (aware datetimes)."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, not {month}")
    start = datetime(year, month, 1, tzinfo=WIB)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=WIB)
    return start, end


@dataclass(frozen=True)
class Statement:
    year: int
    month: int
    start: datetime
    end: datetime
    revenue_by_kind: dict[str, int]
    refunds_sent: int
    companion_earnings: int
    payouts_paid: int
    escrow_at_month_end: int
    deferred_at_month_end: int
    journals: int
    mismatches: tuple[str, ...] = field(default=())

    @property
    def revenue_total(self) -> int:
        return sum(self.revenue_by_kind.values())

    @property
    def balanced(self) -> bool:
        return not self.mismatches

    def lines(self) -> list[tuple[str, int]]:
        """(figure, Rupiah) in the statement's order, for the page and the CSV."""
        rows = [(f"revenue:{kind}", amount) for kind, amount in sorted(self.revenue_by_kind.items())]
        rows += [
            ("revenue_total", self.revenue_total),
            ("refunds_sent", self.refunds_sent),
            ("companion_earnings", self.companion_earnings),
            ("payouts_paid", self.payouts_paid),
            ("escrow_at_month_end", self.escrow_at_month_end),
            ("deferred_at_month_end", self.deferred_at_month_end),
        ]
        return rows

    def check(self) -> list[str]:
        """Recomputes the statement from the Entry rows one by one and returns every difference (empty when
        the statement equals the ledger)."""
        return _check(self)


def _credit(total: int | None) -> int:
    return -(total or 0)


def _in_month(start: datetime, end: datetime) -> Q:
    return Q(journal__created_at__gte=start, journal__created_at__lt=end)


def _balance_before(prefix: str, moment: datetime) -> int:
    """The summed balance (credit-normal: escrow and deferred are liabilities) of every account whose key
    starts with `prefix`, over the journals posted before `moment`."""
    total = Entry.objects.filter(account__key__startswith=prefix, journal__created_at__lt=moment).aggregate(
        total=Sum("amount")
    )["total"]
    return _credit(total)


def monthly_statement(year: int, month: int) -> Statement:
    start, end = month_bounds(year, month)
    entries = Entry.objects.filter(_in_month(start, end))
    revenue = (
        entries.filter(account__key=ledger.PLATFORM_REVENUE)
        .values("journal__kind")
        .annotate(total=Sum("amount"))
        .order_by("journal__kind")
    )
    figures = entries.aggregate(
        refunds_sent=Sum("amount", filter=Q(account__key=ledger.REFUNDS_PAYABLE, journal__kind=REFUND_SENT)),
        earnings=Sum(
            "amount", filter=Q(account__key__startswith=PAYABLE_PREFIX, journal__kind__startswith=SETTLEMENT_PREFIX)
        ),
        payouts=Sum("amount", filter=Q(account__key__startswith=PAYABLE_PREFIX, journal__kind=PAYOUT_PAID)),
    )
    statement = Statement(
        year=year,
        month=month,
        start=start,
        end=end,
        revenue_by_kind={row["journal__kind"]: _credit(row["total"]) for row in revenue},
        refunds_sent=figures["refunds_sent"] or 0,  # debits
        companion_earnings=_credit(figures["earnings"]),
        payouts_paid=figures["payouts"] or 0,  # debits
        escrow_at_month_end=_balance_before(ESCROW_PREFIX, end),
        deferred_at_month_end=_balance_before(DEFERRED_PREFIX, end),
        journals=Journal.objects.filter(created_at__gte=start, created_at__lt=end).count(),
    )
    return dataclasses.replace(statement, mismatches=tuple(statement.check()))


def _check(statement: Statement) -> list[str]:
    start, end = statement.start, statement.end
    revenue: dict[str, int] = defaultdict(int)
    refunds = earnings = payouts = 0
    escrow_open = escrow_close = deferred_open = deferred_close = 0
    journal_totals: dict[str, int] = defaultdict(int)
    rows = Entry.objects.filter(journal__created_at__lt=end).values_list(
        "journal__reference", "journal__kind", "journal__created_at", "account__key", "amount"
    )
    for reference, kind, posted, key, amount in rows.iterator(chunk_size=5000):
        before_month = posted < start
        if key.startswith(ESCROW_PREFIX):
            escrow_close -= amount
            escrow_open -= amount if before_month else 0
        elif key.startswith(DEFERRED_PREFIX):
            deferred_close -= amount
            deferred_open -= amount if before_month else 0
        if before_month:
            continue
        journal_totals[reference] += amount
        if key == ledger.PLATFORM_REVENUE:
            revenue[kind] -= amount
        elif key == ledger.REFUNDS_PAYABLE and kind == REFUND_SENT:
            refunds += amount
        elif key.startswith(PAYABLE_PREFIX) and kind.startswith(SETTLEMENT_PREFIX):
            earnings -= amount
        elif key.startswith(PAYABLE_PREFIX) and kind == PAYOUT_PAID:
            payouts += amount

    mismatches = [
        f"journal {reference} does not balance ({total:+d})" for reference, total in journal_totals.items() if total
    ]
    expected = {
        "revenue_total": sum(revenue.values()),
        "refunds_sent": refunds,
        "companion_earnings": earnings,
        "payouts_paid": payouts,
        "escrow_at_month_end": escrow_close,
        "deferred_at_month_end": deferred_close,
        "journals": len(journal_totals),
    }
    stated = {
        "revenue_total": statement.revenue_total,
        "refunds_sent": statement.refunds_sent,
        "companion_earnings": statement.companion_earnings,
        "payouts_paid": statement.payouts_paid,
        "escrow_at_month_end": statement.escrow_at_month_end,
        "deferred_at_month_end": statement.deferred_at_month_end,
        # A journal without entries cannot be posted (ledger.post refuses), so every journal has a row here.
        "journals": statement.journals,
    }
    mismatches += [
        f"{name}: statement {stated[name]} ≠ ledger {expected[name]}"
        for name in expected
        if stated[name] != expected[name]
    ]
    for kind in sorted(set(revenue) | set(statement.revenue_by_kind)):
        if statement.revenue_by_kind.get(kind, 0) != revenue.get(kind, 0):
            mismatches.append(
                f"revenue:{kind}: statement {statement.revenue_by_kind.get(kind, 0)} ≠ ledger {revenue.get(kind, 0)}"
            )
    # Roll-forward: what the month moved in and out of escrow and deferred revenue explains the month end.
    escrow_moved = _credit(
        Entry.objects.filter(_in_month(start, end), account__key__startswith=ESCROW_PREFIX).aggregate(t=Sum("amount"))[
            "t"
        ]
    )
    deferred_moved = _credit(
        Entry.objects.filter(_in_month(start, end), account__key__startswith=DEFERRED_PREFIX).aggregate(
            t=Sum("amount")
        )["t"]
    )
    if escrow_open + escrow_moved != statement.escrow_at_month_end:
        mismatches.append(
            f"escrow: opening {escrow_open} + moved {escrow_moved} ≠ month end {statement.escrow_at_month_end}"
        )
    if deferred_open + deferred_moved != statement.deferred_at_month_end:
        mismatches.append(
            f"deferred: opening {deferred_open} + moved {deferred_moved} ≠ month end {statement.deferred_at_month_end}"
        )
    return mismatches
