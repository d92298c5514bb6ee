"""Moderation and administration."""

from . import people, sections, site  # noqa: F401
from .views import bp

__all__ = ["bp"]
