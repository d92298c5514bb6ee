"""Permission checks in one place: view decorators, per-object rules, section scope
and what each person may see (as Python checks and as their SQL twins)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, false, literal_column, or_, true

from . import errors  # the module, not its names: errors imports the services, which import us
from .extensions import login_manager
from .models import Permission, Post, PostStatus, utcnow

# Statuses an author may still change on their own post.
AUTHOR_EDITABLE = {PostStatus.DRAFT}


def permission_required(perm: Permission) -> Callable:
    """Require a signed-in person holding perm; others get the login page or 403.

    A script asking for JSON, or a form sent just after the session ended (signed out
    elsewhere, password changed), gets a 401 instead of the sign-in redirect, so what
    was sent is not thrown away (see errors.py).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if errors.wants_json() or (g.get("session_ended") and errors.kept_text()):
                    return errors.signed_out_response()
                return login_manager.unauthorized()
            if not current_user.can(perm):
                abort(403)
            return view(*args, **kwargs)

        wrapped.signed_in_only = True
        return wrapped

    return decorator


REAUTH_MESSAGE = "Please enter your password again to continue."


def _form_page(back: str | None) -> str:
    """Where to return after re-authenticating: this page for a GET, the form page for a POST.

    back names the form page's endpoint; it gets those of this view's arguments it takes.
    """
    if request.method in ("GET", "HEAD") or back is None:
        return request.full_path if request.query_string else request.path
    view_args = request.view_args or {}
    takes = set().union(*(rule.arguments for rule in current_app.url_map.iter_rules(back)))
    return url_for(back, **{name: value for name, value in view_args.items() if name in takes})


def recent_auth_required(back: str | None = None) -> Callable:
    """Ask for the password again when it was last entered over REAUTH_MINUTES ago.

    A POST is never replayed: the person confirms their password, then returns
    to the form page (the endpoint back) and sends it again.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            row = getattr(current_user, "current_session", None)
            minutes = current_app.config["REAUTH_MINUTES"]
            if row is None or not row.authenticated_within(minutes):
                flash(REAUTH_MESSAGE, "info")
                return redirect(url_for("auth.reauthenticate", next=_form_page(back)))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def section_ids_for(user, perm: Permission | None = None) -> frozenset[int] | None:
    """The ids of the sections user works in; None means every section.

    The rule itself is User.section_ids (admins, and editors with no sections
    assigned, cover all). With perm, someone who does not hold it works in no
    section (an empty set); visitors never work in any.
    """
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if perm is not None and not user.can(perm):
        return frozenset()
    return user.section_ids


def in_sections(column, user, perm: Permission | None = None) -> ColumnElement[bool]:
    """SQL condition: the section id in column is one of user's sections (true() for all).

    Every staff listing limits itself with this; see section_ids_for for perm.
    """
    ids = section_ids_for(user, perm)
    if ids is None:
        return true()
    if not ids:
        return false()
    return column.in_(sorted(ids))


def can_view_post(user, post: Post, now: datetime | None = None) -> bool:
    """Return True when user may see post, live or not (the twin of visible_to)."""
    if post.is_live(now):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if post.author_id == user.id and post.status != PostStatus.TRASH:
        return True
    return user.can(Permission.EDIT_ANY, post)


def visible_to(user, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition: user may see the post, live or not (the twin of can_view_post)."""
    shown = [Post.live(now or utcnow())]
    if getattr(user, "is_authenticated", False):
        trash = literal_column(f"'{PostStatus.TRASH.value}'")
        shown.append((Post.author_id == user.id) & (Post.status != trash))
        shown.append(in_sections(Post.category_id, user, Permission.EDIT_ANY))
    return or_(*shown)


def may_manage_pages(user) -> bool:
    """Return True when user may write pages (About, Contact…): EDIT_ANY over every section.

    A page has no section, so User.can(Permission.EDIT_ANY, page) holds exactly for
    admins and unscoped editors; this is the same rule before any page exists (the
    /editor/pages screens, "New page"). Publishing a page needs PUBLISH as well.
    """
    if not getattr(user, "is_authenticated", False) or not user.can(Permission.EDIT_ANY):
        return False
    return user.role.has(Permission.ADMINISTER) or user.covers_section(None)


def can_edit(user, post: Post) -> bool:
    """Return True when user may change post's content (a page: may_manage_pages)."""
    if not user.is_authenticated:
        return False
    if user.can(Permission.EDIT_ANY, post):
        return True
    return (
        post.is_article
        and post.author_id == user.id
        and user.can(Permission.WRITE)
        and post.status in AUTHOR_EDITABLE
    )


def can_publish(user, post: Post) -> bool:
    """Return True when user may publish, schedule or unpublish post."""
    return user.is_authenticated and user.can(Permission.PUBLISH, post)


def can_choose_author(user, post_or_section) -> bool:
    """Return True when user may say who a post (or a new one in a section) is by."""
    return user.is_authenticated and user.can(Permission.EDIT_ANY, post_or_section)


def can_set_coauthors(user, post: Post | None) -> bool:
    """Return True when user may change a post's co-authors: its author, or an editor.

    A new post (post None) is the writer's own, so they may name co-authors on it.
    """
    if not user.is_authenticated:
        return False
    if post is None or post.author_id == user.id:
        return user.can(Permission.WRITE)
    return user.can(Permission.EDIT_ANY, post)
