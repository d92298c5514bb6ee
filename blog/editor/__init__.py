"""The writing desk for authors and editors."""

from .views import bp

__all__ = ["bp"]
