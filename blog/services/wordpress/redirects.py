"""WordPress's old addresses kept alive: 301s from permalinks, old slugs and category addresses.

Only what is WordPress's own is here; a post that moves between runs keeps its
Circle address through the writer (`desk`), like any other post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ...models import Category, Post
from .. import slugs
from .records import WxrItem

if TYPE_CHECKING:
    from .context import ImportContext


def keep_redirect(
    context: ImportContext, path: str, post: Post | None = None, section: Category | None = None
) -> None:
    """Make a WordPress address answer with a 301, changing nothing when it already does.

    An address that already leads to another post here is left to it (the report says so).
    """
    path = slugs.normalise_path(path)
    if not path:
        return
    target = (post.id if post else None, section.id if section else None)
    if context.known.leads_to(path, *target):
        return
    existing = slugs.stored_redirect(path) if context.known.may_have_redirect(path) else None
    if existing is None:
        slugs.add_old_address(path, post=post, section=section)
        context.known.redirects[path] = target
        context.report.created["redirect"] += 1
        return
    same_post = post is not None and existing.post_id == post.id and post.id is not None
    same_section = section is not None and existing.category_id == section.id
    if same_post or same_section:
        return
    if post is not None and existing.post_id is not None:
        context.report.notes.append(
            f"the old address /{path} already leads to another post here; left as it is"
        )
        return
    slugs.remember_old_address(path, post=post, section=section)
    context.known.redirects[path] = target
    context.report.updated["redirect"] += 1


def post_redirects(context: ImportContext, post: Post, item: WxrItem) -> None:
    """Keep the post's WordPress permalink (and any old slugs) answering with a 301."""
    parts = urlsplit(item.link)
    path = slugs.normalise_path(unquote(parts.path))
    here = slugs.address_of(post)
    paths = []
    if path and path != here:
        paths.append(path)
    for old_slug in item.meta.get("_wp_old_slug", []):
        old_slug = unquote(old_slug or "").strip("/")
        if path and old_slug:
            head = path.rsplit("/", 1)[0] if "/" in path else ""
            paths.append(f"{head}/{old_slug}" if head else old_slug)
    for old in paths:
        if old != here:
            keep_redirect(context, old, post=post)
