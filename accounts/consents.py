"""A person's consents: what they agreed to, since when, and one-click withdrawal (UU PDP Pasal 9).

Terms and privacy are the contract: they are withdrawn only by deleting the account. WhatsApp messages and
news and offers (`WITHDRAWABLE_CONSENTS`) are given or withdrawn with one click; the change takes effect at
once (the User flag the senders read) and is recorded as a ConsentRecord, with where it came from.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from accounts.models import WITHDRAWABLE_CONSENTS, ConsentDocument, ConsentRecord, User


@dataclass(frozen=True)
class ConsentState:
    document: str
    label: str
    granted: bool
    since: datetime | None  # the latest record of this document (None: never recorded, e.g. never given)
    version: str
    withdrawable: bool


def consent_set(*, user: User, document: str, granted: bool, ip_address: str | None, user_agent: str) -> bool:
    """Gives or withdraws a withdrawable consent. Returns False when nothing changed (already so: a double
    click records once). The flag changes with one conditional UPDATE, so two clicks at once record once."""
    field = WITHDRAWABLE_CONSENTS[document]
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk).filter(~Q(**{field: granted})).update(**{field: granted})
        if not changed:
            setattr(user, field, granted)
            return False
        ConsentRecord.objects.create(
            user=user, document=document, granted=granted, ip_address=ip_address, user_agent=user_agent[:255]
        )
    setattr(user, field, granted)
    return True


def consent_states(user: User) -> list[ConsentState]:
    """One line per document, from the latest record of each (one query)."""
    latest: dict[str, ConsentRecord] = {}
    for record in ConsentRecord.objects.filter(user=user).order_by("-created_at", "-id"):
        latest.setdefault(record.document, record)
    states = []
    for document in ConsentDocument:
        record = latest.get(document.value)
        field = WITHDRAWABLE_CONSENTS.get(document)
        granted = getattr(user, field) if field else bool(record and record.granted)
        states.append(
            ConsentState(
                document=document.value,
                label=str(document.label),
                granted=granted,
                since=record.created_at if record else None,
                version=record.version if record else "",
                withdrawable=field is not None,
            )
        )
    return states


def consent_history(user: User) -> list[ConsentRecord]:
    return list(ConsentRecord.objects.filter(user=user).order_by("-created_at", "-id"))
