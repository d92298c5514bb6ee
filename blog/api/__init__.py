"""The JSON content API: published content for everyone, writing with a personal token."""

from . import writes  # noqa: F401  (adds the write endpoints to bp)
from .views import bp

__all__ = ["bp"]
