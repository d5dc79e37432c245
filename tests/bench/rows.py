"""Rows the privacy benchmarks seed by bulk insert (tests/bench/privacy_export.py, privacy_purge.py)."""

from datetime import timedelta


def completed_booking(*, customer, companion, start, activity, note: str):
    """An unsaved completed 2-hour booking at Rp 150.000 an hour, its price snapshot consistent."""
    from bookings.models import Booking, BookingStatus

    return Booking(
        customer=customer,
        companion=companion,
        start=start,
        end=start + timedelta(hours=2),
        hold_until=start + timedelta(hours=2, minutes=30),
        activity=activity,
        meeting_place="Kopi Kenangan, Grand Indonesia",
        note=note,
        status=BookingStatus.COMPLETED,
        hourly_rate=150_000,
        hours=2,
        subtotal=300_000,
        service_fee=30_000,
        total=330_000,
        commission_basis_points=2000,
        commission=60_000,
        companion_earnings=240_000,
        response_deadline=start - timedelta(hours=2),
        complete_after=start + timedelta(hours=26),
        created_at=start - timedelta(days=2),
        closed_at=start + timedelta(hours=26),
    )
