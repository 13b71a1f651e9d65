"""Encryption at rest for OAuth tokens: Fernet with key rotation (MultiFernet).

Keys come from settings.TOKEN_ENCRYPTION_KEYS, newest first, read at call time so a test or a
rotation can change them. The first key encrypts; every key decrypts. To rotate: put a new key
first, keep the old ones after it, run `manage.py rotate_token_key`, then drop the old keys.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TokenDecryptionError(Exception):
    """A stored token cannot be read with any configured key (the key was dropped too early)."""


def _fernet() -> MultiFernet:
    keys = [key for key in settings.TOKEN_ENCRYPTION_KEYS if key]
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        # Never echo the key itself.
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key.") from exc


def encrypt(plain: str) -> str:
    """Ciphertext of `plain` under the newest key; the empty string stays empty."""
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise TokenDecryptionError(
            "A stored token cannot be decrypted with TOKEN_ENCRYPTION_KEYS: was an old key removed "
            "before `manage.py rotate_token_key` ran? Reconnect to store fresh tokens."
        ) from exc


def rotate(ciphertext: str) -> str:
    """The same secret re-encrypted under the newest key."""
    if not ciphertext:
        return ""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise TokenDecryptionError("A stored token cannot be decrypted with any configured key.") from exc
