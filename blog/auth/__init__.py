"""Accounts: sign in and out, registration, the account page, password reset, API tokens."""

from . import tokens  # noqa: F401  (adds the API token routes to bp)
from .views import bp

__all__ = ["bp"]
