"""Who may take the staff's money decisions (refunds by hand, payouts)."""

from django.utils.translation import gettext as _

from accounts.models import User
from payments.errors import PaymentNotAllowed


def require_staff(actor: User) -> None:
    """Raises PaymentNotAllowed unless `actor` is active staff. The admin checks its own permissions
    first; this is the service's own guard for every other caller."""
    if not (actor.is_staff and actor.is_active):
        raise PaymentNotAllowed(_("Only staff can do this."))
