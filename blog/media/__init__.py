"""Uploaded media, served to readers from the upload folder."""

from .views import bp

__all__ = ["bp"]
