"""The reader's magazine: home, sections and articles, feeds and the sitemap."""

# feeds, comments and personal add their routes (feeds, sitemap, robots.txt; comments
# and reports; a signed-in person's own parts of a page) to the bp they take from views.
from . import (
    comments,  # noqa: F401
    feeds,  # noqa: F401
    newsletter,  # noqa: F401
    personal,  # noqa: F401
)
from .meta import register as register_meta
from .views import bp

register_meta(bp)

__all__ = ["bp"]
