"""Permission checks in one place: view decorators and per-object rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
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
