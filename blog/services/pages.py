"""Pages: About, Contact, Write for us… rows of posts with kind "page".

A page has no section and lives at the top level (/<slug>); its parent page only shapes
the breadcrumb and the desk's list, never the address. Pages are written by the desk
(`desk.create_page`, `desk.save_post`); this module reads them and holds the hierarchy rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload, load_only

from ..extensions import db
from ..models import Post, PostStatus, User, utcnow
from ..permissions import can_view_post, may_manage_pages, visible_to
from . import Forbidden, NotFound, ServiceError, slugs, surrogate
from .reading import Page

# Deeper than any site's menu needs; it also bounds the walk up a broken chain.
MAX_DEPTH = 20


def live_page(slug: str) -> Post:
    """Return the live page at /<slug> or raise NotFound (drafts and trash are 404)."""
    page = db.session.scalar(
        select(Post)
        .where(Post.slug == slug, Post.pages(), Post.live(utcnow()))
        .options(joinedload(Post.author))
    )
    if page is None:
        raise NotFound("No such page.")
    surrogate.show_posts([page])
    return page


def live_pages(ids: set[int] | None = None) -> list[Post]:
    """The live pages (only those among ids when given), by title, in one query."""
    query = (
        select(Post)
        .where(Post.pages(), Post.live(utcnow()))
        .options(load_only(Post.id, Post.title, Post.slug))
    )
    if ids is not None:
        query = query.where(Post.id.in_(ids))
    found = list(db.session.scalars(query.order_by(Post.title, Post.id)))
    surrogate.show(*(surrogate.page_id(p.id) for p in found))
    return found


def live_page_at(path: str) -> Post | None:
    """The live page an address names in another form (/about/ for /about), if any."""
    slug = slugs.normalise_path(path)
    if not slug or "/" in slug:
        return None
    try:
        return live_page(slug)
    except NotFound:
        return None


def ancestors(page: Post) -> list[Post]:
    """The page's parents, outermost first (for the breadcrumb "Parent › Child")."""
    chain: list[Post] = []
    seen = {page.id}
    parent = page.parent
    while parent is not None and parent.id not in seen and len(chain) < MAX_DEPTH:
        chain.append(parent)
        seen.add(parent.id)
        parent = parent.parent
    return list(reversed(chain))


def live_ancestors(page: Post) -> list[Post]:
    """The parents a reader may follow: only live ones are links on the page."""
    chain = ancestors(page)
    surrogate.show(*(surrogate.page_id(p.id) for p in chain))
    return [parent for parent in chain if parent.is_live()]


def parent_for(page: Post, parent_id: int | None) -> Post | None:
    """The parent page asked for, checked: a page that exists, not trashed, and not the
    page itself or one of its descendants (a page cannot be its own ancestor)."""
    if not parent_id:
        return None
    parent = db.session.get(Post, parent_id)
    if parent is None or not parent.is_page or parent.status == PostStatus.TRASH:
        raise ServiceError("Choose a parent page that exists.", "parent")
    if page.id is not None and (parent.id == page.id or page in ancestors(parent)):
        raise ServiceError("A page cannot sit under itself or one of its own sub-pages.", "parent")
    return parent


@dataclass
class PageRow:
    """A page in the desk's list, with how deep it sits under its parents."""

    page: Post
    depth: int


def page_tree(actor: User, trash: bool = False) -> list[PageRow]:
    """Every page for the desk's list, each after its parent, siblings by title.

    trash: the trashed pages instead (a flat list). Only for people who may manage pages.
    """
    if not may_manage_pages(actor):
        raise Forbidden("You may not manage pages.")
    status = Post.status == PostStatus.TRASH if trash else Post.status != PostStatus.TRASH
    pages = list(
        db.session.scalars(
            select(Post)
            .where(Post.pages(), status)
            .options(defer(Post.body), joinedload(Post.author))
            .order_by(func.lower(Post.title), Post.id)
        )
    )
    if trash:
        return [PageRow(page, 0) for page in pages]
    known = {page.id for page in pages}
    children: dict[int | None, list[Post]] = {}
    for page in pages:
        parent = page.parent_id if page.parent_id in known else None
        children.setdefault(parent, []).append(page)
    rows: list[PageRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for page in children.get(parent_id, []):
            rows.append(PageRow(page, depth))
            walk(page.id, depth + 1)

    walk(None, 0)
    placed = {row.page.id for row in rows}  # a cycle left by hand-edited data: still listed
    rows += [PageRow(page, 0) for page in pages if page.id not in placed]
    return rows


def parent_choices(page: Post | None) -> list[tuple[int, str]]:
    """The pages a page may sit under (not itself nor its sub-pages), indented by depth."""
    pages = list(
        db.session.scalars(
            select(Post)
            .where(Post.pages(), Post.status != PostStatus.TRASH)
            .options(defer(Post.body))
            .order_by(func.lower(Post.title), Post.id)
        )
    )
    by_parent: dict[int | None, list[Post]] = {}
    known = {p.id for p in pages}
    for p in pages:
        by_parent.setdefault(p.parent_id if p.parent_id in known else None, []).append(p)
    choices: list[tuple[int, str]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for p in by_parent.get(parent_id, []):
            if page is not None and p.id == page.id:
                continue  # neither the page nor anything under it
            choices.append((p.id, "\u2014 " * depth + p.title))
            walk(p.id, depth + 1)

    walk(None, 0)
    return choices


# -- The content API ----------------------------------------------------------------------


def page_listing(actor, statuses: list[str], page: int, per_page: int) -> Page:
    """One page of pages for the API: live ones by title; with statuses, what actor may see."""
    if statuses:
        conditions = [Post.pages(), Post.status.in_(statuses), visible_to(actor)]
    else:
        conditions = [Post.pages(), Post.live(utcnow())]
    total = db.session.scalar(select(func.count(Post.id)).where(*conditions)) or 0
    items: list[Post] = []
    if (page - 1) * per_page < total:
        items = list(
            db.session.scalars(
                select(Post)
                .where(*conditions)
                .options(defer(Post.body), joinedload(Post.author))
                .order_by(func.lower(Post.title), Post.id)
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
    surrogate.show(surrogate.PAGES)
    surrogate.show_posts(items)
    return Page(items, total, page, per_page)


def page_by_id(actor, page_id: int) -> Post:
    """Return the page with this id if actor may see it, else NotFound."""
    page = db.session.scalar(select(Post).where(Post.id == page_id, Post.pages()))
    if page is None or not can_view_post(actor, page):
        raise NotFound("No such page.")
    surrogate.show_posts([page])
    return page
