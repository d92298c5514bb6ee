"""The reader's magazine: home, sections and articles, feeds and the sitemap."""

# feeds adds its routes (feeds, sitemap, robots.txt) to the bp it takes from views.
from . import feeds  # noqa: F401
from .views import bp

__all__ = ["bp"]
