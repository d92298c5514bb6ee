"""Permission checks in one place: view decorators and per-object rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from .extensions import login_manager
from .models import Permission, Post, PostStatus

# Statuses an author may still change on their own post.
AUTHOR_EDITABLE = {PostStatus.DRAFT}


def permission_required(perm: Permission) -> Callable:
    """Require a signed-in person holding perm; others get the login page or 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(perm):
                abort(403)
            return view(*args, **kwargs)

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


def can_view_post(user, post: Post) -> bool:
    """Return True when user may see post, published or not."""
    if post.status == PostStatus.PUBLISHED:
        return True
    if not user.is_authenticated:
        return False
    if post.author_id == user.id and post.status != PostStatus.TRASH:
        return True
    return user.can(Permission.EDIT_ANY, post)


def can_edit(user, post: Post) -> bool:
    """Return True when user may change post's content."""
    if not user.is_authenticated:
        return False
    if user.can(Permission.EDIT_ANY, post):
        return True
    return (
        post.author_id == user.id
        and user.can(Permission.WRITE)
        and post.status in AUTHOR_EDITABLE
    )


def can_publish(user, post: Post) -> bool:
    """Return True when user may publish, schedule or unpublish post."""
    return user.is_authenticated and user.can(Permission.PUBLISH, post)
