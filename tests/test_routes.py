"""Every address belongs to one view: two blueprints never claim the same rule."""

from __future__ import annotations

from collections import defaultdict


def test_no_two_views_answer_the_same_address_and_method(app):
    claimed = defaultdict(list)
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            claimed[(rule.rule, method)].append(rule.endpoint)
    shared = {key: views for key, views in claimed.items() if len(views) > 1}
    assert not shared, shared


def test_every_top_level_address_of_a_view_is_a_reserved_slug(app):
    """A page at /<slug> could otherwise hide a view (or a view hide the page)."""
    from blog.models import RESERVED_SLUGS

    firsts = {
        rule.rule.split("/")[1]
        for rule in app.url_map.iter_rules()
        if rule.rule.count("/") >= 1 and not rule.rule.startswith("/<")
    }
    firsts = {first for first in firsts if first and "<" not in first}  # sitemap-<n>.xml
    missing = sorted(first for first in firsts if first not in RESERVED_SLUGS)
    assert not missing, missing
