"""Moderation and administration."""

from . import comments, people, sections, site  # noqa: F401
from .views import bp

__all__ = ["bp"]
