"""The reader's magazine: home, sections and articles."""

from .views import bp

__all__ = ["bp"]
