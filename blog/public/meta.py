"""Structured data for article pages: JSON-LD Article / NewsArticle and breadcrumbs."""

from __future__ import annotations

from flask import current_app, url_for

from ..models import Post
from ..validators import is_usable_address

# Sections whose stories are news reporting, marked up as NewsArticle.
NEWS_SECTIONS = {"news"}


def article_jsonld(post: Post) -> list[dict]:
    """Return the JSON-LD graph for an article page."""
    url = url_for("public.post", section_slug=post.category.slug, post_slug=post.slug,
                  _external=True)
    section_url = url_for("public.category", slug=post.category.slug, _external=True)
    article = {
        "@context": "https://schema.org",
        "@type": "NewsArticle" if post.category.slug in NEWS_SECTIONS else "Article",
        "headline": post.title[:110],
        "description": post.seo_description or post.excerpt,
        "mainEntityOfPage": url,
        "url": url,
        "datePublished": post.published_at.isoformat() if post.published_at else None,
        "dateModified": post.updated_at.isoformat(),
        "articleSection": post.category.name,
        "keywords": [tag.name for tag in post.tags],
        "author": {
            "@type": "Person",
            "name": post.author.name,
            "url": url_for("public.author", username=post.author.username, _external=True),
        },
        "publisher": {
            "@type": "Organization",
            "name": current_app.config["SITE_NAME"],
            "url": url_for("public.home", _external=True),
        },
    }
    if is_usable_address(post.cover_image):
        article["image"] = [_absolute(post.cover_image)]
    article = {key: value for key, value in article.items() if value not in (None, [], "")}
    breadcrumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Home",
             "item": url_for("public.home", _external=True)},
            {"@type": "ListItem", "position": 2, "name": post.category.name, "item": section_url},
            {"@type": "ListItem", "position": 3, "name": post.title, "item": url},
        ],
    }
    return [article, breadcrumbs]


def _absolute(src: str) -> str:
    """Make a root-relative image address absolute."""
    if src.startswith("/"):
        return url_for("public.home", _external=True).rstrip("/") + src
    return src
