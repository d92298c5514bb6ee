"""Redirects an admin keeps by hand: list, add, change and delete old addresses.

Paths are normalised and stored by the one rule in `slugs`; a change purges the cached
redirect answers (the `redirects` key, content_generation's hooks) at the next commit.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from ..extensions import db
from ..hosts import site_netloc
from ..models import Category, Post, Redirect, User
from . import NotFound, ServiceError, audit, slugs, unit_of_work

PER_PAGE = 50


def redirects_page(query: str, page: int, per_page: int = PER_PAGE):
    """One page of redirects, newest first, whose old address contains query."""
    stmt = select(Redirect).order_by(Redirect.created_at.desc(), Redirect.id.desc())
    words = slugs.normalise_path(query)
    if words:
        stmt = stmt.where(func.lower(Redirect.path).contains(words.lower(), autoescape=True))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    if page > 1 and page > pagination.pages:
        raise NotFound("No such page.")
    return pagination


def get_redirect(redirect_id: int) -> Redirect:
    """The redirect with this id, or NotFound."""
    redirect = db.session.get(Redirect, redirect_id)
    if redirect is None:
        raise NotFound("No such redirect.")
    return redirect


def _site_path(text: str, field: str, host: str) -> str:
    """A typed address as a stored path: a site path (/a/b) or a full URL on this site
    (host, where the admin reads the site, or SITE_URL's)."""
    text = (text or "").strip()
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        hosts = {host.lower(), site_netloc().lower()} - {""}
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in hosts:
            raise ServiceError("Type an address on this site, like /health/some-post.", field)
        text = parts.path
    elif not text.startswith("/"):
        raise ServiceError("Type an address on this site starting with /, like /health.", field)
    if "?" in text or "#" in text or "\\" in text:
        raise ServiceError("Type the path alone, without ? or #.", field)
    path = slugs.normalise_path(text)
    if not path or "//" in path or any(c.isspace() or ord(c) < 32 for c in path):
        raise ServiceError("Type an address on this site, like /health/some-post.", field)
    return path


def _live_at(path: str) -> Post | Category | None:
    """The published post, page (/about) or the section that answers at path itself, if any."""
    head, _, tail = path.partition("/")
    if head == "category" and tail and "/" not in tail:
        return db.session.scalar(select(Category).where(Category.slug == tail))
    if not tail:
        page = db.session.scalar(select(Post).where(Post.slug == head, Post.pages()))
        if page is not None and page.is_published:
            return page
        return db.session.scalar(select(Category).where(Category.slug == head))
    if "/" in tail:
        return None
    post = db.session.scalar(
        select(Post).join(Post.category).where(Category.slug == head, Post.slug == tail)
    )
    return post if post is not None and post.is_published else None


def _target(text: str, host: str) -> tuple[str, Post | Category]:
    """The post or section a typed target address leads to, or a field error."""
    path = _site_path(text, "target", host)
    found = _live_at(path)
    if found is None:
        kept = slugs.redirect_for(path)  # an old address: lead to where it leads
        if kept is not None:
            found = kept.post if kept.post is not None and kept.post.is_published else kept.category
    if found is None:
        raise ServiceError(
            f"Nothing is published at /{path}. Type the address of a post or a section.", "target"
        )
    return path, found


def _address(thing: Post | Category) -> str:
    """Where a post or section answers now."""
    if isinstance(thing, Post):
        return slugs.address_of(thing)
    return f"category/{thing.slug}"


def _check_old(
    path: str, target_path: str, target: Post | Category, exclude: Redirect | None
) -> None:
    """Refuse an old address that is live itself, already kept, or leads to itself."""
    if _live_at(path) is not None:
        raise ServiceError(
            f"/{path} is a live address; readers would never reach the redirect.", "path"
        )
    if path in (target_path, _address(target)):
        raise ServiceError("The redirect would lead to itself.", "path")
    kept = slugs.stored_redirect(path)
    if kept is not None and kept is not exclude:
        raise ServiceError(f"/{path} already has a redirect.", "path")


def _details(redirect: Redirect) -> str:
    """The redirect in words for the audit log."""
    target = redirect.post or redirect.category
    return f"/{redirect.path} → /{_address(target)}" if target is not None else f"/{redirect.path}"


@unit_of_work()
def create_redirect(actor: User, old: str, target: str, host: str = "") -> Redirect:
    """Make an old address answer with a 301 to a post or a section."""
    path = _site_path(old, "path", host)
    target_path, thing = _target(target, host)
    _check_old(path, target_path, thing, None)
    redirect = slugs.add_old_address(
        path,
        post=thing if isinstance(thing, Post) else None,
        section=thing if isinstance(thing, Category) else None,
    )
    audit.record(actor, "redirect.create", details=_details(redirect))
    return redirect


@unit_of_work()
def update_redirect(
    actor: User, redirect: Redirect, old: str, target: str, host: str = ""
) -> Redirect:
    """Change a redirect's old address or where it leads."""
    path = _site_path(old, "path", host)
    target_path, thing = _target(target, host)
    _check_old(path, target_path, thing, redirect)
    redirect.path = path
    redirect.post = thing if isinstance(thing, Post) else None
    redirect.category = thing if isinstance(thing, Category) else None
    audit.record(actor, "redirect.update", details=_details(redirect))
    return redirect


@unit_of_work()
def delete_redirect(actor: User, redirect: Redirect) -> None:
    """Drop a redirect: its old address answers 404 again."""
    audit.record(actor, "redirect.delete", details=_details(redirect))
    db.session.delete(redirect)


def target_text(redirect: Redirect) -> str:
    """Where a redirect leads now, as a site path (for the list and the edit form)."""
    target = redirect.post or redirect.category
    return f"/{_address(target)}" if target is not None else ""
