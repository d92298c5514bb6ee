"""The sign-in waiting for its second step, and the browsers that may skip it.

The password step leaves the person's id in the session for a few minutes; nobody
is signed in until the code is right. A remembered browser carries a signed cookie.
"""

from __future__ import annotations

from flask import current_app, request, session

from ..models import User
from ..services import two_factor as two_factor_service

PENDING_KEY = "two_factor_pending"
BROWSER_COOKIE = "circle_2fa_browser"


def needs_code(user: User) -> bool:
    """Return True when this person must give a code on this browser."""
    return two_factor_service.needs_code(user, request.cookies.get(BROWSER_COOKIE))


def begin(user: User, remember: bool, next_url: str | None) -> None:
    """Keep the sign-in waiting for its code, for a few minutes."""
    session[PENDING_KEY] = {
        "u": user.id,
        "f": two_factor_service.pending_fingerprint(user),
        "r": bool(remember),
        "n": next_url,
        "x": int(two_factor_service.clock()) + two_factor_service.pending_seconds(),
    }


def waiting() -> tuple[User, bool, str | None] | None:
    """Return (person, remember me, next page) of the waiting sign-in, or None."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    expires = data.get("x")
    if not isinstance(expires, int) or two_factor_service.clock() >= expires:
        clear()
        return None
    user = two_factor_service.user_for_pending(data.get("u"), data.get("f"))
    if user is None:
        clear()
        return None
    next_url = data.get("n") if isinstance(data.get("n"), str) else None
    return user, bool(data.get("r")), next_url


def clear() -> None:
    """Forget the waiting sign-in."""
    session.pop(PENDING_KEY, None)


def remember_browser(response, user: User) -> None:
    """Let this browser skip the code for this person for the remembered days."""
    response.set_cookie(
        BROWSER_COOKIE,
        two_factor_service.remember_browser(user),
        max_age=two_factor_service.remember_days() * 24 * 3600,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )


def forget_browser(response) -> None:
    """Remove this browser's remembered-browser cookie."""
    response.delete_cookie(
        BROWSER_COOKIE,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
