"""Accounts: sign in and out, registration, the account page, password reset, API tokens."""

from . import sessions, tokens  # noqa: F401  (add the device and API token routes to bp)
from .views import bp

__all__ = ["bp"]
