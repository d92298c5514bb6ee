"""Internal links: links in post bodies to the old site's posts lead to their new addresses.

WordPress links its own posts as /?p=16, /?page_id=2 or by permalink on the old domain
(the WXR's <link> and wp:base_site_url name it). Such a link is rewritten to the post's
address here once every item is in (a post may link to one later in the file), and the
writer's sanitiser then gives it the rel of an internal link (no "nofollow"). What an
import writes as a post's body is fingerprinted before this rewriting, so a second run
finds nothing changed; a link whose post was not imported stays as it was, and the
report says so.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from ...extensions import db
from ...models import Post, Revision
from .. import desk, slugs
from .markup import upload_key

if TYPE_CHECKING:
    from .context import ImportContext

_HREF = re.compile(r"""(<a\b[^>]*?\shref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def _bare_host(host: str | None) -> str:
    """A host name without its www. (old.example.org and www.old.example.org are one site)."""
    host = (host or "").lower()
    return host.removeprefix("www.")


def old_post_id(url: str, context: ImportContext) -> int | None:
    """The WordPress id of the old site's post or page a link leads to, or None."""
    url = html.unescape(url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https") or upload_key(url, context.site_host):
        return None
    if parts.netloc and _bare_host(parts.hostname) != _bare_host(context.site_host):
        return None
    if not parts.netloc and not parts.path.startswith("/") and not url.startswith("?"):
        return None  # a relative link ("page.html") or an anchor: nothing to go by
    query = parse_qs(parts.query)
    for key in ("p", "page_id"):
        if query.get(key) and query[key][0].isdigit():
            return int(query[key][0])
    path = slugs.normalise_path(unquote(parts.path))
    return context.scan.permalinks.get(path) if path else None


def mentions_old_posts(body: str, context: ImportContext) -> bool:
    """Whether a body has a link to one of the old site's posts."""
    return any(old_post_id(m.group(3), context) for m in _HREF.finditer(body or ""))


def _rewritten(body: str, context: ImportContext, label: str) -> str:
    """The body with each link to an imported post pointing at its address here."""

    def href(match: re.Match) -> str:
        """Rewrite one link, keeping its #fragment."""
        url = match.group(3)
        wp_id = old_post_id(url, context)
        if wp_id is None:
            return match.group(0)
        target = db.session.scalar(select(Post).where(Post.wp_post_id == wp_id))
        if target is None:
            context.report.notes.append(
                f"{label}: the link to {html.unescape(url)} leads to nothing imported "
                "(not in the export, or left out); it still points at the old site"
            )
            return match.group(0)
        fragment = urlsplit(html.unescape(url)).fragment
        address = "/" + slugs.address_of(target) + (f"#{fragment}" if fragment else "")
        return f"{match.group(1)}{match.group(2)}{html.escape(address)}{match.group(2)}"

    return _HREF.sub(href, body)


def rewrite_internal_links(context: ImportContext) -> None:
    """The last pass: point links to the old site's posts at their new addresses.

    The post's body and the import revision holding the same text change together.
    """
    rewritten = 0
    for post_id in sorted(context.internal_links):
        post = db.session.get(Post, post_id)
        kind = "page" if post.is_page else "post"
        label = f'{kind} {post.wp_post_id} "{post.title[:60]}"'
        body = str(desk.prepare_body(_rewritten(post.body, context, label)))
        if body == post.body:
            continue
        revision = db.session.scalar(
            select(Revision)
            .where(Revision.post_id == post.id)
            .order_by(Revision.id.desc())
            .limit(1)
        )
        if revision is not None and revision.body == post.body:
            revision.body = body
        post.body = body
        flag_modified(post, "updated_at")  # a link is no edit: the post keeps its date
        rewritten += 1
    if rewritten:
        context.report.notes.append(
            f"links to the old site's posts now lead to their addresses here in {rewritten} "
            f"post{'s' if rewritten != 1 else ''}"
        )
