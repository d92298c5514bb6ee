"""Serving uploads: immutable files under random names, cached for a year.

With local storage the files are sent from UPLOAD_DIR (nginx serves them itself in
production); with S3 storage they are streamed from the bucket, for sites whose
readers do not fetch media from S3_PUBLIC_URL directly.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request, send_file, send_from_directory

from ..services.media import UPLOAD_URL, site_icon, storage
from ..services.media.storage import StoredFile

bp = Blueprint("media", __name__)

ONE_YEAR = 365 * 24 * 3600
ONE_DAY = 24 * 3600
SERVED_EXTENSIONS = (".jpg", ".png", ".webp")
ICO = "image/vnd.microsoft.icon"


@bp.route(f"{UPLOAD_URL}/<path:filename>")
def uploaded_file(filename: str):
    """Send one stored image; hidden, partial or foreign files are a 404."""
    if not filename.lower().endswith(SERVED_EXTENSIONS):
        abort(404)
    if any(part in ("", ".", "..") or part.startswith(".") for part in filename.split("/")):
        abort(404)  # temporary files of an upload in progress, and any "..".
    store = storage()
    if store.root is not None:
        # send_from_directory refuses paths that leave the folder, with a 404.
        response = send_from_directory(store.root, filename, max_age=ONE_YEAR, conditional=True)
    else:
        stored = store.open(filename)
        if stored is None:
            abort(404)
        response = _streamed(stored, ONE_YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def _streamed(stored: StoredFile, max_age: int, mimetype: str | None = None) -> Response:
    """A response that streams a file from the media store, answering 304 when unchanged."""
    response = Response(stored.chunks, mimetype=mimetype or stored.content_type)
    response.call_on_close(stored.close)
    if stored.size is not None:
        response.content_length = stored.size
    if stored.etag:
        response.set_etag(stored.etag)
    response.last_modified = stored.modified
    response.cache_control.max_age = max_age
    return response.make_conditional(request)


@bp.route("/favicon.ico")
def favicon():
    """The site's icon where browsers look for it first: the admins' one, or Circle's."""
    # Not immutable: the address stays when the icon changes, so browsers check daily.
    stored = site_icon.open_favicon()
    if stored is None:
        response = send_file(
            site_icon.default_favicon(), mimetype=ICO, max_age=ONE_DAY, conditional=True
        )
    else:
        response = _streamed(stored, ONE_DAY, ICO)
    response.cache_control.public = True
    return response
