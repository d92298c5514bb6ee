"""Structured data for article pages: JSON-LD Article / NewsArticle and breadcrumbs."""

from __future__ import annotations

from flask import current_app

from ..hosts import absolute_path, absolute_url
from ..models import Post
from ..services.media import public_address
from ..validators import is_usable_address

# Sections whose stories are news reporting, marked up as NewsArticle.
NEWS_SECTIONS = {"news"}


def article_jsonld(post: Post) -> list[dict]:
    """Return the JSON-LD graph for an article page."""
    url = absolute_url("public.post", section_slug=post.category.slug, post_slug=post.slug)
    section_url = absolute_url("public.category", slug=post.category.slug)
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
    if is_usable_address(post.cover_image):
        article["image"] = [absolute_path(public_address(post.cover_image))]
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
