"""Serving uploads: immutable files under random names, cached for a year."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file, send_from_directory

from ..services.media import UPLOAD_URL, site_icon

bp = Blueprint("media", __name__)

ONE_YEAR = 365 * 24 * 3600
ONE_DAY = 24 * 3600
SERVED_EXTENSIONS = (".jpg", ".png", ".webp")


@bp.route(f"{UPLOAD_URL}/<path:filename>")
def uploaded_file(filename: str):
    """Send one stored image; hidden, partial or foreign files are a 404."""
    if not filename.lower().endswith(SERVED_EXTENSIONS):
        abort(404)
    if any(part.startswith(".") for part in filename.split("/")):
        abort(404)  # temporary files of an upload in progress, and any "..".
    # send_from_directory refuses paths that leave the folder, with a 404.
    response = send_from_directory(
        current_app.config["UPLOAD_DIR"], filename, max_age=ONE_YEAR, conditional=True
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


@bp.route("/favicon.ico")
def favicon():
    """The site's icon where browsers look for it first: the admins' one, or Circle's."""
    # Not immutable: the address stays when the icon changes, so browsers check daily.
    response = send_file(
        site_icon.favicon_file(),
        mimetype="image/vnd.microsoft.icon",
        max_age=ONE_DAY,
        conditional=True,
    )
    response.cache_control.public = True
    return response
