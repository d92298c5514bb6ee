"""Accounts: sign in and out, registration, the account page, password reset, API tokens."""

from . import (  # noqa: F401  (add the picture, device, API token and 2FA routes to bp)
    avatars,
    notifications,
    sessions,
    tokens,
    two_factor,
)
from .views import bp

__all__ = ["bp"]
