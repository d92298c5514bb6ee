"""The JSON content API: published content for everyone, writing with a personal token."""

from . import pages, writes  # noqa: F401  (add the pages' and the write endpoints to bp)
from .views import bp

__all__ = ["bp"]
