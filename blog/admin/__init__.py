"""Moderation and administration."""

from . import (  # noqa: F401
    comments,
    jobs,
    navigation,
    newsletter,
    people,
    redirects,
    sections,
    site,
    webhooks,
)
from .views import bp

__all__ = ["bp"]
