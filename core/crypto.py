"""Encryption at rest for personal identifiers (NIK), with key rotation.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) through MultiFernet: the first key in
FIELD_ENCRYPTION_KEYS encrypts, every key decrypts, so a new key can be put first and old rows
re-encrypted with `manage.py rotate_encryption_keys`; once it reports nothing left under an old key,
that key can be removed. A keyed hash (HMAC-SHA256, with FIELD_FINGERPRINT_KEY, which never rotates)
gives a deterministic fingerprint for finding duplicates without decrypting.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(key) for key in keys])


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    """Tests (and the rotation test) change FIELD_ENCRYPTION_KEYS; the cached MultiFernet must follow."""
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()
        _primary.cache_clear()


@cache
def _primary() -> Fernet:
    _fernet()  # the same "no keys" error
    return Fernet(settings.FIELD_ENCRYPTION_KEYS[0])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("cannot decrypt: wrong key or damaged value") from error


def is_current(token: str) -> bool:
    """Whether a stored value is already encrypted with the first (current) key."""
    try:
        _primary().decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same plain text encrypted with the current key (MultiFernet.rotate; keeps the timestamp).

    Raises ValueError when no configured key opens the value."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("cannot decrypt: wrong key or damaged value") from error


def fingerprint(plain: str) -> str:
    """Keyed hash: equal inputs give equal fingerprints; without the key it reveals nothing."""
    if not settings.FIELD_FINGERPRINT_KEY:
        raise ImproperlyConfigured("FIELD_FINGERPRINT_KEY is empty.")
    key = hashlib.sha256(("fingerprint:" + settings.FIELD_FINGERPRINT_KEY).encode()).digest()
    return hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()


def derive_dev_key(secret: str) -> str:
    """A Fernet key derived from SECRET_KEY, for dev and tests only (prod requires real keys)."""
    return base64.urlsafe_b64encode(hashlib.sha256(("fernet:" + secret).encode()).digest()).decode()


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code sees the plain text. Not searchable: use a fingerprint."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
