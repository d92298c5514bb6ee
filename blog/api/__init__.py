"""The JSON content API."""

from .views import bp

__all__ = ["bp"]
