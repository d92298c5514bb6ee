"""Accounts: sign in and out, registration, the account page, password reset, API tokens."""

from . import sessions, tokens, two_factor  # noqa: F401  (add the device, API token and 2FA routes to bp)
from .views import bp

__all__ = ["bp"]
