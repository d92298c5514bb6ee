"""Post cards: each story's card rendered once per change of what it shows.

A reader listing (home, a section, a tag, an author, an article's related stories)
reads only the ids of its stories; each card's HTML is kept with the content
(content_generation.cached_each) under the keys of what it shows: the story, the
people in its byline, and ``all`` (sections, settings and the site's time zone). An
edit, a renamed author or a moved story shows at once; the cards missing are read in
one query and rendered by the post_card macro of _macros.html, the card's one home.
"""

from __future__ import annotations

from flask import get_template_attribute
from markupsafe import Markup

from ..services import content_generation, reading, surrogate


def post_cards(
    ids: list[int],
    heading: str = "h2",
    show_section: bool = True,
    with_author: bool | None = True,
    eager: int = 0,
    lead: bool = False,
) -> list[Markup]:
    """The cards of these stories, in order; the first `eager` load their image at once,
    and with lead the first one's image is the page's main picture (fetched first).

    with_author=None shows the byline only on co-written stories (an author's page).
    A story no longer live is left out.
    """
    loading = {i: "eager" for i in ids[:eager]}
    if lead and ids:
        loading[ids[0]] = "lead"

    def render(post) -> str:
        """One card's HTML."""
        shows_author = len(post.authors) > 1 if with_author is None else with_author
        return _macro("post_card")(
            post,
            heading,
            loading=loading.get(post.id, "lazy"),
            show_section=show_section,
            with_author=shows_author,
        )

    variant = f"{heading}:{int(show_section)}:{with_author}"
    return _kept(ids, lambda i: f"{variant}:{loading.get(i, 'lazy')}", render)


def featured_card(post_id: int | None) -> Markup | None:
    """The home page's featured story (its image loads at once), or None."""
    found = _kept([post_id] if post_id else [], lambda _i: "featured", _macro("featured_card"))
    return found[0] if found else None


def search_cards(ids: list[int]) -> dict[int, tuple[Markup, Markup]]:
    """Each found story's heading (section, linked title) and byline, by id, kept as its
    card is: a search page reads only the ids and snippets of its hits. A story no longer
    live is left out."""

    def build(post) -> tuple[str, str]:
        surrogate.show_posts([post])
        return str(_macro("search_result_head")(post)), str(_macro("byline")(post))

    names = {i: f"search-card:{i}" for i in ids}
    found = content_generation.cached_each(names, reading.card_posts, build)
    return {i: (Markup(head), Markup(byline)) for i, (head, byline) in found.items()}  # noqa: S704


def _macro(name: str):
    """A macro of _macros.html, where each card's markup lives."""
    return get_template_attribute("_macros.html", name)


def _kept(ids: list[int], variant, render) -> list[Markup]:
    """Each story's card, kept with the content under the keys of what it shows."""

    def build(post) -> str:
        surrogate.show_posts([post])
        return str(render(post))

    names = {i: f"card:{i}:{variant(i)}" for i in ids}
    found = content_generation.cached_each(names, reading.card_posts, build)
    return [Markup(found[i]) for i in ids if i in found]  # noqa: S704 - our own macros' HTML
