"""The writing desk for authors and editors."""

from . import media  # noqa: F401  (adds the media library's routes to bp)
from .views import bp

__all__ = ["bp"]
