"""A signed-in person's own parts of the shared reader pages.

Reader pages are the same for everyone, so the page cache serves them to all
(blog/pagecache.py). In a browser that signed in, static/js/personal.js asks here once
per page and puts each part in its place. The parts are rendered from the templates the
pages use (the masthead's account links, the messages, the Edit link, the comment
area), so there is one copy of their markup. This answer is that person's alone: the
page cache never keeps it and it goes out `private, no-store`; it is also the request
that keeps a reader's session alive.
"""

from __future__ import annotations

from flask import get_flashed_messages, get_template_attribute, jsonify, render_template, request
from flask_login import current_user

from .. import signin
from ..forms import id_from
from ..headers import personal
from ..services import reading
from .views import bp, comment_area, edit_link


def _notices() -> dict:
    """Messages waiting for this person (a session that just ran out says so), if any."""
    if not get_flashed_messages():  # Flask keeps them for the template on this request
        return {}
    return {"notices": render_template("_flashes.html")}


def _parts_of(article) -> dict:
    """The Edit link and, under an article, the comment area, as this person gets them."""
    staff_edit = get_template_attribute("_macros.html", "staff_edit")
    parts = {"edit": str(staff_edit(article, edit_link(article)))}
    if article.is_article:
        parts["comments"] = render_template(
            "public/_comments.html", post=article, **comment_area(article)
        )
    return parts


@bp.get("/me/parts")
@personal
def personal_parts():
    """The person's own parts of a page as HTML by name; ?post=<id> for an article or page.

    A guest gets 401 (with any message waiting for them), and the marker cookie that
    made their browser ask is cleared.
    """
    if not current_user.is_authenticated:
        signin.forget_marker()
        return jsonify(signed_in=False, parts=_notices()), 401
    parts = {"account": render_template("_account_nav.html"), **_notices()}
    post_id = id_from(request.args.get("post"))
    article = reading.live_post(post_id) if post_id is not None else None
    if article is not None:
        parts.update(_parts_of(article))
    return jsonify(signed_in=True, parts=parts)
