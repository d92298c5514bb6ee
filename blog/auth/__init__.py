"""Accounts: sign in and out, registration, the account page, password reset."""

from .views import bp

__all__ = ["bp"]
