"""Accounts: sign in and out, registration, the account page, password reset, API tokens."""

from . import tokens, two_factor  # noqa: F401  (add the API token and 2FA routes to bp)
from .views import bp

__all__ = ["bp"]
