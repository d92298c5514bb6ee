"""Which host names the site answers to, and the one address it writes into links.

Every absolute address Circle writes (mail, feeds, the sitemap, robots.txt,
JSON-LD, OpenGraph, canonical links, the API's links, shared previews, the
WordPress export) comes from `absolute_url` or `absolute_path` here, built on
SITE_URL, never on the Host a request claims. Requests for a host name not in
ALLOWED_HOSTS are answered 400 before anything else runs.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, url_for
from werkzeug.routing import MapAdapter

_HOST_CHARS = re.compile(r"[a-z0-9.\-_:\[\]]+")
UNKNOWN_HOST = "Bad request: this site does not answer to that host name.\n"
# At most this many page addresses are remembered per process (remembered_url), then
# it starts again.
MAX_REMEMBERED_ADDRESSES = 10_000


def host_name(host: str) -> str:
    """The lower-case host name of a Host header value, without its port or brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else ""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str | None, allowed: list[str] | tuple[str, ...]) -> bool:
    """Whether a Host header value names one of the allowed hosts.

    Like Django's ALLOWED_HOSTS: an entry ".example.com" also allows every
    subdomain, and "*" allows any host.
    """
    if not host or not _HOST_CHARS.fullmatch(host.strip().lower()):
        return False
    name = host_name(host)
    if not name:
        return False
    for entry in allowed:
        entry = entry.strip().lower()
        if entry == "*" or entry == name:
            return True
        if entry.startswith(".") and (name == entry[1:] or name.endswith(entry)):
            return True
    return False


def refuse_unknown_hosts():
    """before_request, first of all: answer 400 when the Host is not an allowed one."""
    if host_allowed(request.host, current_app.config.get("ALLOWED_HOSTS") or ()):
        return None
    response = current_app.response_class(UNKNOWN_HOST, status=400, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def links_root() -> str:
    """The site's public address (SITE_URL) without a trailing slash.

    Production always has SITE_URL. Without it (development and tests) the
    request's own address is used, which has already passed ALLOWED_HOSTS; with no
    request (a job in a worker), where `make run` serves in development.
    """
    configured = current_app.config.get("SERVER_NAME_FOR_LINKS")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return current_app.config.get("LINKS_FALLBACK") or "http://localhost"


def site_host() -> str | None:
    """The host name of the site's public address, e.g. mycirclestory.example."""
    return urlsplit(links_root()).hostname


def site_netloc() -> str:
    """The host (and port, if any) of the site's public address."""
    return urlsplit(links_root()).netloc


def site_origin(root: str | None = None) -> str:
    """scheme://host[:port] of the site's public address, for root-relative paths."""
    parts = urlsplit(root or links_root())
    return f"{parts.scheme}://{parts.netloc}"


def request_origin() -> str:
    """scheme://host[:port] this request was sent to (its Host has passed ALLOWED_HOSTS)."""
    return site_origin(request.host_url)


def _adapter(root: str) -> MapAdapter:
    """A URL builder bound to root, kept per address (binding takes a little work)."""
    adapters: dict[str, MapAdapter] = current_app.extensions.setdefault("circle_link_adapters", {})
    if root not in adapters:
        parts = urlsplit(root)
        adapters[root] = current_app.url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https"
        )
    return adapters[root]


def absolute_url(endpoint: str, *, _root: str | None = None, **values) -> str:
    """The absolute address of an endpoint on the public site (SITE_URL).

    _root overrides the site's address (the WordPress export's --site-url).
    """
    values = {name: value for name, value in values.items() if value is not None}
    current_app.inject_url_defaults(endpoint, values)
    return _adapter((_root or links_root()).rstrip("/")).build(
        endpoint, values, force_external=True
    )


def post_url(post) -> str:
    """A post's absolute address for readers (a page's: /<slug>), for the API, mail, hooks."""
    if post.is_page:
        return absolute_url("public.page", slug=post.slug)
    return absolute_url("public.post", section_slug=post.category.slug, post_slug=post.slug)


def remembered_url(endpoint: str, **values) -> str:
    """url_for for templates: each page-relative address is built once per process.

    An address depends only on the door, its arguments and where the site is mounted
    (no door has a host or subdomain of its own, and the only URL default, a static
    file's version, is settled per process outside debug mode), so a page's twenty
    links cost a dictionary look-up each. Blueprint-relative doors, options such as
    _external, debug mode and calls outside a request go to url_for unremembered.
    """
    app = current_app._get_current_object()
    if (
        endpoint.startswith(".")
        or any(name.startswith("_") for name in values)
        or app.debug
        or not has_request_context()
    ):
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, *sorted(values.items()))
    remembered = app.extensions.setdefault("circle_addresses", {})
    try:
        found = remembered.get(key)
    except TypeError:  # a list of values for one argument: not a key
        return url_for(endpoint, **values)
    if found is None:
        found = url_for(endpoint, **values)
        if len(remembered) >= MAX_REMEMBERED_ADDRESSES:
            remembered.clear()
        remembered[key] = found
    return found


def absolute_path(path: str, *, _root: str | None = None) -> str:
    """Make a root-relative address ("/uploads/…") absolute on the public site."""
    if not path.startswith("/") or path.startswith("//"):
        return path
    return site_origin(_root) + path


def init_app(app: Flask) -> None:
    """Check the Host of every request before any other hook; give templates the helpers."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unknown_hosts)
    app.jinja_env.globals["absolute_url"] = absolute_url
    app.jinja_env.globals["absolute_path"] = absolute_path
