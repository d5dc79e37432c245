"""What promotions holds about a person (issue 15's registry, core/personal_data.py): the discounts their
bookings received (a promo code, the welcome discount or a referral voucher). They are part of the booking's
money, so the purge keeps them as they are: they name no one, and the customer link points at the
pseudonymised account.

Referrals: the person's invitation code, the friends who joined through it and the invitation they joined
by, their vouchers and commission cuts, and (for staff) the decisions they recorded. The purge deletes the
code (the link stops working), blanks the hashed sign-up address and revokes unused vouchers; the referral
rows, used vouchers and cuts stay as the record of what discounts and commissions were given."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import iso
from core import personal_data
from promotions.models import CommissionCut, Redemption, Referral, ReferralCode, StaffDecision, Voucher


def export_redemptions(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    redemptions = (
        Redemption.objects.filter(customer=user).select_related("promotion", "booking").order_by("reserved_at", "pk")
    )
    return [
        {
            "booking": redemption.booking.reference,
            "code": redemption.promotion.code if redemption.promotion_id else "",
            "source": redemption.source,
            "discount": redemption.discount,
            "status": redemption.status,
            "reserved_at": iso(redemption.reserved_at),
            "consumed_at": iso(redemption.consumed_at),
            "released_at": iso(redemption.released_at),
        }
        for redemption in redemptions
    ]


def export_referrals(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    """Who invited whom is shared between two people: each sees the invitation's facts, never the other's
    account details."""
    rows: list[dict] = []
    code = ReferralCode.objects.filter(user=user).first()
    if code is not None:
        rows.append({"type": "invitation_code", "code": code.code, "created_at": iso(code.created_at)})
    joined = Referral.objects.filter(referred=user).first()
    if joined is not None:
        rows.append({"type": "joined_by_invitation", "status": joined.status, "signed_up_at": iso(joined.signed_up_at)})
    for referral in Referral.objects.filter(referrer=user).order_by("signed_up_at", "pk"):
        rows.append(
            {
                "type": "invited_friend",
                "status": referral.status,
                "signed_up_at": iso(referral.signed_up_at),
                "first_booking_completed_at": iso(referral.qualified_at),
                "rewarded_at": iso(referral.rewarded_at),
                "reversed_at": iso(referral.reversed_at),
            }
        )
    for voucher in Voucher.objects.filter(owner=user).order_by("issued_at", "pk"):
        rows.append(
            {
                "type": "voucher",
                "amount": voucher.amount,
                "status": voucher.status,
                "issued_at": iso(voucher.issued_at),
                "expires_at": iso(voucher.expires_at),
            }
        )
    for cut in CommissionCut.objects.filter(profile__user=user).order_by("starts_at", "pk"):
        rows.append(
            {
                "type": "commission_cut",
                "basis_points": cut.basis_points,
                "starts_at": iso(cut.starts_at),
                "ends_at": iso(cut.ends_at),
            }
        )
    for decision in StaffDecision.objects.filter(staff=user).order_by("at", "pk"):
        rows.append({"type": "staff_decision", "action": decision.action, "at": iso(decision.at)})
    return rows


def purge_referrals(user: User, ctx: personal_data.PurgeContext) -> None:
    ReferralCode.objects.filter(user=user).delete()
    Referral.objects.filter(referred=user).exclude(signup_address="").update(signup_address="")
    Voucher.objects.filter(owner=user, status__in=(Voucher.Status.AVAILABLE, Voucher.Status.RESERVED)).update(
        status=Voucher.Status.REVOKED
    )


def register() -> None:
    personal_data.register(
        "discounts",
        models=("promotions.Redemption",),
        export=export_redemptions,
        purge=None,
        kept=_("The discounts your bookings received stay with those bookings in the books (10 years by tax law)."),
    )
    personal_data.register(
        "referrals",
        models=(
            "promotions.ReferralCode",
            "promotions.Referral",
            "promotions.Voucher",
            "promotions.CommissionCut",
            "promotions.StaffDecision",
        ),
        export=export_referrals,
        purge=purge_referrals,
        kept=_(
            "Invitations and their rewards (vouchers, lower commissions) stay without your name, as the record of "
            "the discounts and commissions given."
        ),
    )
