"""Secrets the site must read back (TOTP seeds, webhook signing keys), sealed at rest.

Each kind has its own key, derived from SECRET_KEY with HKDF (a salt and an info per
kind), so a database copy or a backup alone does not give them away. Changing
SECRET_KEY makes them unreadable: people set up two-factor again, webhooks get new secrets.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _fernet(salt: bytes, info: bytes) -> Fernet:
    """The cipher of one kind of secret, keyed from SECRET_KEY."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(
        current_app.config["SECRET_KEY"].encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str, salt: bytes, info: bytes) -> str:
    """Encrypt value for the database."""
    return _fernet(salt, info).encrypt(value.encode()).decode()


def unseal(stored: str | None, salt: bytes, info: bytes) -> str | None:
    """The value sealed in stored, or None when there is none or it cannot be read."""
    if not stored:
        return None
    try:
        return _fernet(salt, info).decrypt(stored.encode()).decode()
    except InvalidToken:
        current_app.logger.warning("A sealed secret (%s) cannot be read.", info.decode())
        return None
