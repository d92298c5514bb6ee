"""What reader pages tell search engines and link previews: meta descriptions, the
picture a page shares as, and JSON-LD (Article / NewsArticle, breadcrumbs, and the
site's WebSite and Organization on the home page)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app
from markupsafe import Markup

from ..hosts import absolute_path, absolute_url
from ..models import Category, Post
from ..services import settings as site_settings
from ..services.media import Picture, cover_picture, picture_by_id, site_icon
from ..services.reading import Section

# Sections whose stories are news reporting, marked up as NewsArticle.
NEWS_SECTIONS = {"news"}
# Search engines show about this many characters of a description.
DESCRIPTION_LIMIT = 155
# Circle's touch icon (static/icons/circle-180.png) and a stored icon's are this square.
ICON_SIZE = site_icon.TOUCH_SIZE


def cut_description(text: str | None, limit: int = DESCRIPTION_LIMIT) -> str:
    """A meta description: spaces folded, cut at a word near limit characters, with "…"."""
    if isinstance(text, Markup):  # a template block's output: escaped once already
        text = text.unescape()
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else text[:limit]
    return cut.rstrip(" ,;:-–—.") + "…"


@dataclass(frozen=True)
class ShareImage:
    """The picture a page shares as: an absolute address, its size when known, its alt text."""

    url: str
    width: int | None
    height: int | None
    alt: str
    large: bool  # a cover (a large card), not the site's icon


def _shared(picture: Picture | None) -> ShareImage | None:
    """A library picture as a share image (a large card), or None."""
    if picture is None:
        return None
    return ShareImage(
        absolute_path(picture.src), picture.width, picture.height, picture.alt, True
    )


def share_image(post: Post | None = None, section: Category | Section | None = None) -> ShareImage:
    """The picture a page shares as: the post's cover, its section's, the site's default
    share image, else the site's icon."""
    section = post.category if post is not None and not post.is_page else section
    for owner in (post, section):
        found = _shared(cover_picture(owner)) if owner is not None else None
        if found is not None:
            return found
    found = _shared(picture_by_id(site_settings.current().default_share_image))
    if found is not None:
        return found
    icon = absolute_path(site_icon.links().touch)
    return ShareImage(icon, ICON_SIZE, ICON_SIZE, "", False)


def site_jsonld() -> list[dict]:
    """Return the home page's JSON-LD: the WebSite with its search, and the Organization."""
    home = absolute_url("public.home")
    name = site_settings.current().site_name
    search = absolute_url("public.search") + "?q={search_term_string}"
    website = {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": name,
        "url": home,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": search},
            "query-input": "required name=search_term_string",
        },
    }
    organization = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": name,
        "url": home,
        "logo": absolute_path(site_icon.links().touch),
    }
    return [website, organization]


def register(bp: Blueprint) -> None:
    """Give templates the description filter and the share-image helper."""
    bp.add_app_template_filter(cut_description, "meta_description")
    bp.add_app_template_global(share_image, "share_image")


def _image_object(image: ShareImage) -> dict | str:
    """A share image as JSON-LD: an ImageObject with its size, or just its address."""
    if image.width is None or image.height is None:
        return image.url
    return {"@type": "ImageObject", "url": image.url, "width": image.width,
            "height": image.height}


def article_jsonld(post: Post) -> list[dict]:
    """Return the JSON-LD graph for an article page."""
    url = absolute_url("public.post", section_slug=post.category.slug, post_slug=post.slug)
    section_url = absolute_url("public.category", slug=post.category.slug)
    article = {
        "@context": "https://schema.org",
        "@type": "NewsArticle" if post.category.slug in NEWS_SECTIONS else "Article",
        "headline": post.title[:110],
        "description": cut_description(post.seo_description or post.excerpt),
        "mainEntityOfPage": url,
        "url": url,
        "datePublished": post.published_at.isoformat() if post.published_at else None,
        "dateModified": post.updated_at.isoformat(),
        "articleSection": post.category.name,
        "keywords": [tag.name for tag in post.tags],
        "author": [
            {
                "@type": "Person",
                "name": person.name,
                "url": absolute_url("public.author", username=person.username),
            }
            for person in post.authors
        ],
        "publisher": {
            "@type": "Organization",
            "name": current_app.config["SITE_NAME"],
            "url": absolute_url("public.home"),
        },
    }
    image = share_image(post)
    article["image"] = [_image_object(image)]
    article = {key: value for key, value in article.items() if value not in (None, [], "")}
    breadcrumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Home",
             "item": absolute_url("public.home")},
            {"@type": "ListItem", "position": 2, "name": post.category.name, "item": section_url},
            {"@type": "ListItem", "position": 3, "name": post.title, "item": url},
        ],
    }
    return [article, breadcrumbs]
