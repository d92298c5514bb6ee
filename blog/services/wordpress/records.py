"""What a WordPress export holds, as plain records the import steps read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from .. import ServiceError

# A post's people as the Co-Authors Plus plugin writes them: <category domain="author"
# nicename="cap-LOGIN">, the author first.
COAUTHOR_PREFIX = "cap-"


class WxrError(ServiceError):
    """The file is not a WordPress export, is broken, or the options do not fit."""


@dataclass
class WxrAuthor:
    """A <wp:author> of the export."""

    login: str
    email: str = ""
    display_name: str = ""
    wp_id: int = 0  # wp:author_id: what a registered commenter's wp:comment_user_id names


@dataclass
class WxrCategory:
    """A <wp:category> of the export: its slug, name, parent and description."""

    nicename: str
    name: str
    parent: str = ""
    description: str = ""


@dataclass
class WxrAttachment:
    """An attachment item: where its file was and how to describe it."""

    wp_id: int
    url: str
    file: str = ""  # the _wp_attached_file meta: a path under wp-content/uploads
    alt: str = ""
    title: str = ""
    creator: str = ""
    date: datetime | None = None
    caption: str = ""  # its excerpt: the caption a gallery shows under it
    parent: int = 0  # wp:post_parent: the post it was uploaded to (0: none)


@dataclass
class WxrComment:
    """A <wp:comment> of an item."""

    wp_id: int
    author: str
    email: str
    ip: str
    date: datetime | None
    content: str
    approved: str
    type: str
    parent: int
    user_id: int = 0  # wp:comment_user_id: the commenter's wp:author_id (0: a guest)


@dataclass
class WxrItem:
    """One <item>: a post, page, attachment or something else WordPress keeps."""

    wp_id: int
    post_type: str
    title: str
    link: str
    creator: str
    content: str
    excerpt: str
    date: datetime | None
    modified: datetime | None
    name: str
    status: str
    password: str
    sticky: bool
    attachment_url: str
    categories: list[tuple[str, str, str]] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    comments: list[WxrComment] = field(default_factory=list)
    parent: int = 0  # wp:post_parent: a page's parent page (0: none)

    def meta_value(self, key: str) -> str:
        """The first value of a postmeta key, or ''."""
        values = self.meta.get(key) or [""]
        return values[0] or ""


@dataclass
class WxrScan:
    """What the first, cheap pass over the file found."""

    version: str = ""
    site_url: str = ""
    items: int = 0
    types: Counter = field(default_factory=Counter)
    authors: dict[str, WxrAuthor] = field(default_factory=dict)
    # The logins that wrote, co-wrote or uploaded something (an account made for anyone
    # else, a registered commenter, is a reader's).
    creators: set[str] = field(default_factory=set)
    categories: dict[str, WxrCategory] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # a <wp:tag>'s slug → its name
    used_categories: set[str] = field(default_factory=set)  # nicenames some item is in
    attachments: dict[int, WxrAttachment] = field(default_factory=dict)
    # A post's or page's permalink path (no slashes at the ends) → its WordPress id.
    permalinks: dict[str, int] = field(default_factory=dict)
