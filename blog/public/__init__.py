"""The reader's magazine: home, sections and articles, feeds and the sitemap."""

# feeds and comments add their routes (feeds, sitemap, robots.txt; comments and
# reports) to the bp they take from views.
from . import (
    comments,  # noqa: F401
    feeds,  # noqa: F401
)
from .views import bp

__all__ = ["bp"]
