"""companions' answers to accounts' questions (accounts/hooks.py), registered in CompanionsConfig.ready():
accounts sits below companions and never imports it."""

from accounts import hooks
from accounts.models import User
from companions.models import CompanionProfile
from companions.services import identity_locked, profile_refresh_listing


def identity_checked_against_ktp(user: User) -> bool:
    """A companion whose KTP verification is pending or approved keeps the name and date of birth checked."""
    profile = CompanionProfile.objects.filter(user_id=user.pk).only("verification_status").first()
    return profile is not None and identity_locked(profile)


def refresh_listing_after_active_change(user: User) -> None:
    """A deactivated (banned) companion leaves search and their page at once; a reactivated one returns."""
    profile = CompanionProfile.objects.filter(user_id=user.pk).first()
    if profile is not None:
        profile_refresh_listing(profile=profile)


def register() -> None:
    hooks.register_identity_lock(identity_checked_against_ktp)
    hooks.register_active_changed(refresh_listing_after_active_change)
