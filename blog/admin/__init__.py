"""Moderation and administration."""

from . import comments, jobs, navigation, people, redirects, sections, site  # noqa: F401
from .views import bp

__all__ = ["bp"]
