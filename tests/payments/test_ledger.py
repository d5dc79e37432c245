import pytest
from django.db import DatabaseError, connection, transaction

from payments import ledger
from payments.ledger import Line
from payments.models import Entry, Journal
from tests.conftest import requires_postgresql

pytestmark = pytest.mark.django_db

ESCROW = PAYABLE = ""


@pytest.fixture(autouse=True)
def booking_accounts(request):
    """Escrow and payable accounts point at a real booking and companion (foreign keys)."""
    global ESCROW, PAYABLE
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):  # the flush of earlier transactional tests emptied them
        request.getfixturevalue("reference_data")
    from tests.bookings.helpers import make_companion, new_customer, request

    profile = make_companion()
    booking = request(new_customer(), profile)
    ESCROW, PAYABLE = ledger.escrow_account(booking.pk), ledger.companion_payable_account(profile.pk)


def settle(total=330_000, reference="payment:KMP-1:settled"):
    return ledger.post(
        reference=reference,
        kind="payment_settled",
        lines=[Line(ledger.PROVIDER_CLEARING, total), Line(ESCROW, -total)],
    )


def complete(total=330_000, earnings=240_000):
    return ledger.post(
        reference="booking:KMP-1:completed",
        kind="booking_completed",
        lines=[Line(ESCROW, total), Line(PAYABLE, -earnings), Line(ledger.PLATFORM_REVENUE, -(total - earnings))],
    )


def test_a_booking_settles_and_completes_with_balances_from_the_entries():
    settle()
    assert ledger.balance(ledger.PROVIDER_CLEARING) == 330_000
    assert ledger.balance(ESCROW) == 330_000
    complete()
    assert ledger.balance(ESCROW) == 0
    assert ledger.balance(PAYABLE) == 240_000
    assert ledger.balance(ledger.PLATFORM_REVENUE) == 90_000  # 30,000 fee + 60,000 commission
    assert ledger.unbalanced_journals() == []


def test_posting_is_idempotent_by_reference():
    first, created = settle()
    again, created_again = settle()
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert Journal.objects.count() == 1 and Entry.objects.count() == 2
    assert ledger.balance(ESCROW) == 330_000


def test_the_same_reference_with_other_amounts_is_an_error_and_posts_nothing():
    settle()
    with pytest.raises(ledger.LedgerError):
        settle(total=1)
    assert Entry.objects.count() == 2


@pytest.mark.parametrize(
    "lines",
    [
        [Line(ledger.PROVIDER_CLEARING, 100), Line(ledger.REFUNDS_PAYABLE, -99)],  # does not balance
        [Line(ledger.PROVIDER_CLEARING, 100.0), Line(ledger.REFUNDS_PAYABLE, -100.0)],  # floats
        [Line("somewhere", 100), Line(ledger.REFUNDS_PAYABLE, -100)],  # unknown account
        [],
    ],
)
def test_bad_journals_are_refused_and_nothing_is_written(lines):
    with pytest.raises(ledger.LedgerError):
        ledger.post(reference="bad", kind="test", lines=lines)
    assert Journal.objects.count() == 0 and Entry.objects.count() == 0


@requires_postgresql
def test_postgresql_refuses_updating_or_deleting_entries():
    settle()
    entry = Entry.objects.first()
    for change in (
        lambda: Entry.objects.filter(pk=entry.pk).update(amount=1),
        lambda: Entry.objects.filter(pk=entry.pk).delete(),
        lambda: Journal.objects.filter(pk=entry.journal_id).update(memo="edited"),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    assert ledger.balance(ESCROW) == 330_000


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_committing_an_unbalanced_journal_written_around_the_service():
    """The service checks balance; the database checks it again at commit (deferred trigger)."""
    from payments.models import LedgerAccount

    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        journal = Journal.objects.create(reference="raw", kind="test")
        account = LedgerAccount.objects.create(key=ledger.PROVIDER_CLEARING, kind="asset")
        Entry.objects.create(journal=journal, account=account, amount=500)
    assert not Journal.objects.filter(reference="raw").exists()
    assert connection.vendor == "postgresql"
