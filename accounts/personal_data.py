"""What accounts holds about a person (issue 15, core/personal_data.py): the account itself, consents,
number checks, blocks, and the login records of allauth and Django (email addresses, two-factor
authenticators, sessions, the admin's log). The account's own purge runs last (order 1000): the other
apps' purges read the person's names and numbers (`identifiers`) to take them out of what others wrote."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts import services as account_services
from accounts.models import Block, ConsentRecord, PhoneVerification, User
from core import personal_data
from core.formatting import format_phone_national


def iso(value) -> str | None:
    return value.isoformat() if value else None


def erased_email(user_id: int) -> str:
    """What replaces a purged person's email: unique (the case-insensitive unique constraint holds) and
    undeliverable (.invalid is reserved, RFC 2606)."""
    return f"deleted-{user_id}@invalid.example"


def identifiers(user: User) -> list[str]:
    """The person's names, email and phone in the forms they appear in text (for core.redact): empty once
    the account is purged, so a second purge changes nothing."""
    if user.erased_at is not None:
        return []
    found = [user.full_name, *user.full_name.split(), user.email]
    profile = getattr(user, "companion_profile", None) if user.is_companion else None
    if profile is not None and profile.display_name:
        found += [profile.display_name, *profile.display_name.split()]
    if user.phone:
        national = format_phone_national(user.phone)
        found += [user.phone, user.phone.lstrip("+"), national, national.replace("-", "")]
    return [item for item in dict.fromkeys(found) if item]


# --- The account ---------------------------------------------------------------------------------------------


def export_profile(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    if user.avatar:
        ctx.add_file("avatar" + user.avatar.name[user.avatar.name.rfind(".") :], user.avatar)
    return [
        {
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "phone_verified_at": iso(user.phone_verified_at),
            "date_of_birth": iso(user.date_of_birth),
            "role": user.role,
            "preferred_language": user.preferred_language,
            "time_zone": user.time_zone,
            "whatsapp_opt_in": user.whatsapp_opt_in,
            "email_notifications": user.email_notifications,
            "message_emails": user.message_emails,
            "has_avatar": bool(user.avatar),
            "date_joined": iso(user.date_joined),
            "last_login": iso(user.last_login),
            "is_active": user.is_active,
        }
    ]


def purge_profile(user: User, ctx: personal_data.PurgeContext) -> None:
    user = User.objects.get(pk=user.pk)  # the row as it is now (earlier purges ran on the caller's copy)
    if user.avatar:
        ctx.shred(user.avatar)
    user.email = erased_email(user.pk)
    user.full_name = ""
    user.phone = ""
    user.phone_verified_at = None
    user.date_of_birth = None
    user.avatar = ""
    user.whatsapp_opt_in = False
    user.email_notifications = False
    user.message_emails = False
    user.is_active = False
    if user.has_usable_password():  # a second purge leaves the (random) unusable one as it is
        user.set_unusable_password()
    user.erased_at = user.erased_at or ctx.now
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


# --- Consents, number checks, blocks -------------------------------------------------------------------------


def export_consents(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {
            "document": row.document,
            "version": row.version,
            "granted": row.granted,
            "time": iso(row.created_at),
            "ip_address": row.ip_address,
            "user_agent": row.user_agent,
        }
        for row in ConsentRecord.objects.filter(user=user).order_by("created_at", "id")
    ]


def purge_consents(user: User, ctx: personal_data.PurgeContext) -> None:
    ConsentRecord.objects.filter(user=user).exclude(ip_address=None, user_agent="").update(
        ip_address=None, user_agent=""
    )


def export_phone_verifications(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {"phone": row.phone, "sent_at": iso(row.created_at), "verified_at": iso(row.verified_at)}
        for row in PhoneVerification.objects.filter(user=user).order_by("created_at")
    ]


def purge_phone_verifications(user: User, ctx: personal_data.PurgeContext) -> None:
    PhoneVerification.objects.filter(user=user).delete()


def export_blocks(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    # Only the blocks the person made: who blocked them is not theirs to know.
    return [
        {"blocked": row.blocked.get_short_name(), "blocked_at": iso(row.created_at)}
        for row in Block.objects.filter(blocker=user).select_related("blocked").order_by("created_at")
    ]


def purge_blocks(user: User, ctx: personal_data.PurgeContext) -> None:
    others = set(Block.objects.filter(blocker=user).values_list("blocked_id", flat=True))
    others |= set(Block.objects.filter(blocked=user).values_list("blocker_id", flat=True))
    Block.objects.filter(Q(blocker=user) | Q(blocked=user)).delete()
    for other_id in others:
        still = Block.objects.filter(Q(blocker_id=other_id) | Q(blocked_id=other_id)).exists()
        User.objects.filter(pk=other_id).update(has_blocks=still)


# --- Login records (allauth, sessions) and the admin log ----------------------------------------------------


def export_login(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    rows: list[dict] = [
        {"record": "email_address", "email": row.email, "verified": row.verified, "primary": row.primary}
        for row in EmailAddress.objects.filter(user=user)
    ]
    rows += [
        {
            "record": "two_factor",
            "type": row.type,
            "created_at": iso(row.created_at),
            "last_used_at": iso(row.last_used_at),
        }
        for row in Authenticator.objects.filter(user=user)
    ]
    rows += [
        {"record": "session", "expires_at": iso(session.expire_date)}
        for session in account_services.user_sessions(user.pk)
    ]
    return rows


def purge_login(user: User, ctx: personal_data.PurgeContext) -> None:
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    # Sessions are not read here: they were ended when the deletion was asked for (accounts.tasks.
    # end_sessions_task), an inactive person's session logs no one in, and they hold only the user id (kept,
    # pseudonymous); the daily clear-sessions job removes them once expired. Scanning every live session per
    # purged person would make the purge job O(people × sessions).


def _log_about(user: User):
    types = [ContentType.objects.get_for_model(User)]
    profile_id = getattr(getattr(user, "companion_profile", None), "pk", None) if user.is_companion else None
    about = Q(content_type__in=types, object_id=str(user.pk))
    if profile_id is not None:
        about |= Q(
            content_type__app_label="companions", content_type__model="companionprofile", object_id=str(profile_id)
        )
    return LogEntry.objects.filter(about)


def export_admin_log(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    # What the person did in the admin, when they are (or were) staff.
    return [
        {"time": iso(row.action_time), "object": row.object_repr, "action": row.get_action_flag_display()}
        for row in LogEntry.objects.filter(user=user).order_by("action_time")
    ]


def purge_admin_log(user: User, ctx: personal_data.PurgeContext) -> None:
    # Staff's record of what they changed stays; the person's name in it goes.
    _log_about(user).exclude(object_repr=ctx.pseudonym).update(object_repr=ctx.pseudonym)


def register() -> None:
    personal_data.register(
        "profile",
        models=("accounts.User",),
        export=export_profile,
        purge=purge_profile,
        kept=_(
            "Your account row stays without your name, email, phone, birth date or photo, as “former user”, "
            "so the bookings and payments the tax law makes us keep still add up."
        ),
        order=1000,
    )
    personal_data.register(
        "consents",
        models=("accounts.ConsentRecord",),
        export=export_consents,
        purge=purge_consents,
        kept=_(
            "Consent records stay as proof of what was agreed and withdrawn and when, without your IP address "
            "or browser."
        ),
    )
    personal_data.register(
        "phone_verifications",
        models=("accounts.PhoneVerification",),
        export=export_phone_verifications,
        purge=purge_phone_verifications,
    )
    personal_data.register("blocks", models=("accounts.Block",), export=export_blocks, purge=purge_blocks)
    personal_data.register(
        "login",
        models=("account.EmailAddress", "mfa.Authenticator", "sessions.Session"),
        export=export_login,
        purge=purge_login,
    )
    personal_data.register(
        "admin_log",
        models=("admin.LogEntry",),
        export=export_admin_log,
        purge=purge_admin_log,
        kept=_("The admin's log of what staff changed stays, with your name replaced."),
    )
