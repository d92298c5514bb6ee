"""Feeds and discovery: Atom feeds, the sitemap, robots.txt and WordPress feed addresses."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, make_response, redirect, render_template, url_for

from ..hosts import absolute_url, site_host, site_origin
from ..services import NotFound, reading
from ..services import feeds as feed_service
from ..services import settings as site_settings
from ..services import slugs as slug_service
from .views import bp

ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
# Search engines accept 50,000 addresses per sitemap; stay well under it.
SITEMAP_PAGE_SIZE = 45_000
# The date in an empty site feed's <updated>: fixed, so the feed does not change on every request.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SITEMAP_ENDPOINTS = {
    "home": "public.home",
    "section": "public.category",
    "tag": "public.tag",
    "author": "public.author",
    "post": "public.post",
    "page": "public.page",
}


@bp.app_template_filter("rfc3339")
def rfc3339(moment: datetime | None) -> str:
    """Format a time as RFC 3339 in UTC, e.g. 2025-05-01T09:30:00Z."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml_response(template: str, mimetype: str, **context):
    """Render an XML template and answer with the given content type."""
    document = feed_service.xml_safe(render_template(template, **context))
    response = make_response(document)
    response.headers["Content-Type"] = mimetype
    return response


def _renamed_section_feed(slug: str):
    """A renamed section's old feed addresses lead to its feed now (301), else 404."""
    kept = slug_service.redirect_for(f"category/{slug}")
    if kept is None or kept.category is None:
        abort(404)
    return redirect(url_for("public.section_feed", slug=kept.category.slug), 301)


def _render_feed(
    posts,
    *,
    title: str,
    feed_id: str,
    self_url: str,
    alternate_url: str,
    fallback_updated: datetime,
):
    """Answer with an Atom feed of posts."""
    root = site_origin()
    host = site_host() or "localhost"
    covers = feed_service.feed_covers(posts)
    entries = [
        {
            "post": post,
            "cover": covers.get(post.id),
            "id": feed_service.post_tag_uri(post, host),
            "url": absolute_url(
                "public.post", section_slug=post.category.slug, post_slug=post.slug
            ),
            "authors": [
                (person.name, absolute_url("public.author", username=person.username))
                for person in post.authors
            ],
            "section_url": absolute_url("public.category", slug=post.category.slug),
            "updated": feed_service.entry_updated(post),
            "content": feed_service.entry_html(post, covers.get(post.id), root),
        }
        for post in posts
    ]
    return _xml_response(
        "public/feed.xml",
        ATOM,
        title=title,
        feed_id=feed_id,
        self_url=self_url,
        alternate_url=alternate_url,
        updated=feed_service.feed_updated(posts, fallback_updated),
        entries=entries,
    )


@bp.route("/feed.xml")
def site_feed():
    """The Atom feed of the newest stories from every section."""
    home = absolute_url("public.home")
    return _render_feed(
        feed_service.site_feed_posts(),
        title=site_settings.current().site_name,
        feed_id=home,
        self_url=absolute_url("public.site_feed"),
        alternate_url=home,
        fallback_updated=EPOCH,
    )


@bp.route("/category/<slug>/feed.xml")
def section_feed(slug: str):
    """The Atom feed of one section's newest stories."""
    try:
        section = reading.section_by_slug(slug)
    except NotFound:
        return _renamed_section_feed(slug)
    return _render_feed(
        feed_service.section_feed_posts(section),
        title=f"{site_settings.current().site_name} — {section.name}",
        feed_id=feed_service.section_tag_uri(section, site_host() or "localhost"),
        self_url=absolute_url("public.section_feed", slug=section.slug),
        alternate_url=absolute_url("public.category", slug=section.slug),
        fallback_updated=section.created_at,
    )


@bp.route("/feed/")
def wordpress_site_feed():
    """WordPress's feed address answers with a permanent redirect to ours."""
    return redirect(url_for("public.site_feed"), 301)


@bp.route("/category/<slug>/feed/")
def wordpress_section_feed(slug: str):
    """WordPress's section feed address answers with a permanent redirect to ours."""
    try:
        section = reading.section_by_slug(slug)
    except NotFound:
        return _renamed_section_feed(slug)
    return redirect(url_for("public.section_feed", slug=section.slug), 301)


def _sitemap_pages(entries: list) -> list[list]:
    """Split the sitemap's entries into pages of at most SITEMAP_PAGE_SIZE."""
    size = SITEMAP_PAGE_SIZE
    return [entries[i : i + size] for i in range(0, max(len(entries), 1), size)]


def _render_urlset(entries: list):
    """Answer with a <urlset> of absolute addresses and their last change."""
    urls = [
        (absolute_url(SITEMAP_ENDPOINTS[entry.kind], **entry.values), entry.lastmod)
        for entry in entries
    ]
    return _xml_response("public/sitemap.xml", XML, urls=urls)


@bp.route("/sitemap.xml")
def sitemap():
    """The sitemap; past one page's worth of addresses, a sitemap index of its pages."""
    pages = _sitemap_pages(feed_service.sitemap_entries())
    if len(pages) == 1:
        return _render_urlset(pages[0])
    sitemaps = [
        (
            absolute_url("public.sitemap_page", number=number),
            max((entry.lastmod for entry in page if entry.lastmod), default=None),
        )
        for number, page in enumerate(pages, start=1)
    ]
    return _xml_response("public/sitemap.xml", XML, sitemaps=sitemaps)


@bp.route("/sitemap-<int:number>.xml")
def sitemap_page(number: int):
    """One page of the sitemap, as listed by the sitemap index."""
    pages = _sitemap_pages(feed_service.sitemap_entries())
    if not 1 <= number <= len(pages):
        abort(404)
    return _render_urlset(pages[number - 1])


@bp.route("/robots.txt")
def robots():
    """Tell crawlers what to leave alone and where the sitemap is."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /editor/",
        "",
        f"Sitemap: {absolute_url('public.sitemap')}",
        "",
    ]
    response = make_response("\n".join(lines))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response
