"""Site settings that admins change from the site, over the configured defaults."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from flask import current_app, g
from sqlalchemy import select

from ..extensions import db
from ..models import SiteSetting
from . import ServiceError, audit, clock, content_generation, surrogate, unit_of_work
from .media.covers import cover_media


@dataclass
class Settings:
    """Everything the settings page controls."""

    site_name: str
    site_slogan: str
    site_tagline: str
    posts_per_page: int
    comments_moderated: bool = True
    comment_link_limit: int = 2
    comment_blocklist: list[str] = field(default_factory=list)
    require_staff_two_factor: bool = False
    timezone: str = "UTC"
    site_icon: str = ""  # the stored icon's name (blog/services/site_icon.py); "" for Circle's
    # The library image a page without a cover (its own or its section's) is shared with.
    default_share_image: int | None = None


def _defaults() -> Settings:
    """The settings as configured, before anything was changed on the site."""
    config = current_app.config
    return Settings(
        site_name=config["SITE_NAME"],
        site_slogan=config["SITE_SLOGAN"],
        site_tagline=config["SITE_TAGLINE"],
        posts_per_page=config["POSTS_PER_PAGE"],
        timezone=config["SITE_TIMEZONE"],
    )


def _load() -> dict:
    """Read the stored settings as a plain dict (cacheable)."""
    values = asdict(_defaults())
    for row in db.session.scalars(select(SiteSetting)):
        if row.key in values:
            values[row.key] = json.loads(row.value)
    return values


def current() -> Settings:
    """Return the settings in force (once per request, cached across requests)."""
    if "circle_settings" not in g:
        g.circle_settings = Settings(
            **content_generation.cached("site-settings", _load, keys=(surrogate.SETTINGS,))
        )
    return g.circle_settings


def _whole_number(values: dict, key: str, low: int, high: int, name: str, out_of_range: str) -> int:
    """A setting that is a whole number between low and high, or a refusal naming the field."""
    try:
        number = int(values.get(key))
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"{name} is a whole number.", key) from exc
    if not low <= number <= high:
        raise ServiceError(out_of_range, key)
    return number


def _validate(values: dict) -> dict:
    """Check and tidy settings submitted by an admin."""
    clean = {}
    for key in ("site_name", "site_slogan", "site_tagline"):
        text = " ".join(str(values.get(key, "")).split())
        if key == "site_name" and not text:
            raise ServiceError("The site needs a name.", key)
        clean[key] = text[:200]
    clean["posts_per_page"] = _whole_number(
        values, "posts_per_page", 1, 100, "Posts per page", "Show between 1 and 100 posts per page."
    )
    clean["comments_moderated"] = bool(values.get("comments_moderated"))
    clean["comment_link_limit"] = _whole_number(
        values, "comment_link_limit", 0, 50, "The link limit", "Allow between 0 and 50 links."
    )
    words = values.get("comment_blocklist") or []
    if isinstance(words, str):
        words = words.splitlines()
    clean["comment_blocklist"] = sorted({w.strip().lower() for w in words if w.strip()})[:500]
    clean["require_staff_two_factor"] = bool(values.get("require_staff_two_factor"))
    clean["timezone"] = clock.zone_named(values.get("timezone") or current().timezone).key
    share_image = cover_media(values.get("default_share_image"), "default_share_image")
    clean["default_share_image"] = share_image.id if share_image is not None else None
    return clean


def update(actor, values: dict) -> Settings:
    """Store new settings, record what changed, and make every page use them at once."""
    return _store(actor, _validate(values))


def store_site_icon(actor, name: str) -> Settings:
    """Put the icon stored under name in force ("" for Circle's own); the caller checked it."""
    return _store(actor, {"site_icon": name})


def _store(actor, clean: dict) -> Settings:
    """Write checked settings (a commit that bumps the content generation), noting changes."""
    before = asdict(current())
    with unit_of_work():
        stored = {row.key: row for row in db.session.scalars(select(SiteSetting))}
        for key, value in clean.items():
            row = stored.get(key) or SiteSetting(key=key)
            row.value = json.dumps(value)
            db.session.add(row)
        changed = {k: (before.get(k), v) for k, v in clean.items() if before.get(k) != v}
        if changed:
            audit.record(actor, "settings.change", details=json.dumps(changed, default=str))
    g.pop("circle_settings", None)
    return Settings(**{**before, **clean})
