"""Every app's purge (its personal_data.py) on a seeded person, run the way privacy/deletion.py runs them (in
declaration order, one transaction): afterwards no text or JSON column holds their names, email, phone,
NIK or bank numbers; their files are handed over for shredding; a second run changes nothing; what the
books need stays. (privacy/deletion.py's own tests run the whole purge with locks and the journal.)"""

import pytest
from django.apps import apps
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from bookings.models import Booking
from chat.models import Message
from core import personal_data
from core.redact import ERASED_TEXT
from payments.models import Payout
from reviews.models import Review
from tests.privacy.people import DISPLAY_NAME, seed_person

pytestmark = pytest.mark.django_db

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def purge_all(user: User) -> list:
    ctx = personal_data.PurgeContext(now=timezone.now(), pseudonym=f"former-user-{user.pk}")
    with transaction.atomic():
        for declaration in personal_data.declarations():
            if declaration.purge is not None:
                declaration.purge(User.objects.get(pk=user.pk), ctx)
    return ctx.files


def scan(needles: list[str]) -> list[str]:
    """Where any needle is found: "app.Model.field #pk" (values read through the ORM, so encrypted fields
    are read decrypted)."""
    lowered = [needle.lower() for needle in needles]
    found = []
    for model in apps.get_models():
        fields = [field for field in model._meta.concrete_fields if isinstance(field, TEXT_FIELDS)]
        if not fields:
            continue
        for row in model._default_manager.values_list("pk", *[field.attname for field in fields]).iterator():
            for field, value in zip(fields, row[1:], strict=True):
                text = str(value).lower() if value not in (None, "") else ""
                if any(needle in text for needle in lowered):
                    found.append(f"{model._meta.label}.{field.name} #{row[0]}")
    return found


def snapshot() -> dict:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label != "sessions.Session"
    }


def test_after_the_purges_nothing_names_the_person_and_a_second_run_changes_nothing():
    seeded = seed_person()
    needles = [*seeded.needles(), DISPLAY_NAME]
    assert scan(needles), "the seed must hold the needles the purge takes out"
    person_files = {seeded.person.avatar.name, *(photo.image.name for photo in seeded.profile.photos.all())}

    files = purge_all(seeded.person)

    assert scan(needles) == []
    shredded = {name for _storage, name in files}
    assert person_files <= shredded
    assert len([name for name in shredded if name.startswith("identity/")]) == 2  # KTP and selfie
    before = snapshot()
    assert purge_all(seeded.person) == []
    assert snapshot() == before


def test_what_the_books_and_the_other_party_need_stays():
    seeded = seed_person()
    bookings = Booking.objects.filter(pk__in=[seeded.as_customer.pk, seeded.as_companion.pk])
    totals = sorted(bookings.values_list("total", flat=True))

    purge_all(seeded.person)

    person = User.objects.get(pk=seeded.person.pk)
    assert person.erased_at is not None and not person.is_active and not person.has_usable_password()
    assert person.email == f"deleted-{person.pk}@invalid.example"
    assert str(person) == gettext("Former user")
    assert sorted(bookings.values_list("total", flat=True)) == totals
    assert Payout.objects.filter(profile=seeded.profile).get().amount == 100_000
    # The other side's conversation still reads in order, the person's lines shown as deleted.
    texts = list(Message.objects.filter(conversation__booking=seeded.as_customer).values_list("text", flat=True))
    assert texts[0] == ERASED_TEXT and texts[1].startswith("Siap")
    # Their review of the companion stays with its stars, shown as a former user's.
    review = Review.objects.get(author=person, direction="of_companion")
    assert review.overall == 2 and review.text.startswith("Biasa saja")
