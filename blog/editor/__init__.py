"""The writing desk for authors and editors."""

from . import media, pages  # noqa: F401  (add the media library's and the pages' routes to bp)
from .views import bp

__all__ = ["bp"]
