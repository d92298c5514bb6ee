"""What a reader may see is defined once: Post.live in SQL and Post.is_live in Python.

These tests prove the twins agree on every status and time, that the staff twins
(permissions.visible_to and can_view_post) agree for every kind of person, and
that pages, search, feeds, the sitemap and the API all show the same posts.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, PostStatus, utcnow
from blog.models.user import AnonymousUser
from blog.permissions import can_view_post, section_ids_for, visible_to
from blog.services.users import assign_sections

PAST, FUTURE = timedelta(hours=-2), timedelta(hours=2)
COMBINATIONS = [
    (PostStatus.DRAFT, None),
    (PostStatus.DRAFT, PAST),
    (PostStatus.PENDING, None),
    (PostStatus.PENDING, PAST),
    (PostStatus.SCHEDULED, PAST),
    (PostStatus.SCHEDULED, FUTURE),
    (PostStatus.PUBLISHED, PAST),
    (PostStatus.PUBLISHED, FUTURE),
    (PostStatus.TRASH, None),
    (PostStatus.TRASH, PAST),
]
EXPECTED_LIVE = {(PostStatus.SCHEDULED, PAST), (PostStatus.PUBLISHED, PAST)}


@pytest.fixture
def every_kind(make):
    """One post (in Health, by one author) for each status × time combination."""
    health = make.section("Health", slug="health")
    news = make.section("News", slug="news")
    author = make.user("author", username="arun")
    now = utcnow()
    posts = {}
    for n, (status, offset) in enumerate(COMBINATIONS):
        posts[(status, offset)] = make.post(
            author=author,
            section=health,
            status=status,
            title=f"Kestrel {status.value} {n}",
            published_at=None if offset is None else now + offset,
        )
    return {"health": health, "news": news, "author": author, "posts": posts, "now": now}


def _live_ids_in_sql(now) -> set[int]:
    """The posts the SQL twin lets readers see at now."""
    return set(db.session.scalars(select(Post.id).where(Post.live(now))))


def test_sql_and_python_agree_on_every_status_and_time(every_kind):
    now = every_kind["now"]
    in_sql = _live_ids_in_sql(now)
    for key, post in every_kind["posts"].items():
        assert post.is_live(now) == (post.id in in_sql), key
        assert post.is_live(now) == (key in EXPECTED_LIVE), key


def test_the_twins_move_together_when_time_passes(every_kind):
    later = every_kind["now"] + timedelta(hours=3)
    in_sql = _live_ids_in_sql(later)
    for key, post in every_kind["posts"].items():
        assert post.is_live(later) == (post.id in in_sql), key
    # Once its time has come, a scheduled or published post is live, whatever else.
    assert {k for k, p in every_kind["posts"].items() if p.is_live(later)} == {
        (PostStatus.SCHEDULED, PAST),
        (PostStatus.SCHEDULED, FUTURE),
        (PostStatus.PUBLISHED, PAST),
        (PostStatus.PUBLISHED, FUTURE),
    }


def test_staff_visibility_twins_agree_for_everyone(make, every_kind):
    health, news = every_kind["health"], every_kind["news"]
    health_editor = make.user("editor", username="hedda")
    assign_sections(health_editor, [health])
    news_editor = make.user("editor", username="nadia")
    assign_sections(news_editor, [news])
    people = [
        AnonymousUser(),
        make.user("reader", username="rita"),
        every_kind["author"],
        make.user("author", username="other"),
        health_editor,
        news_editor,
        make.user("editor", username="roaming"),
        make.user("admin", username="root"),
    ]
    now = every_kind["now"]
    for person in people:
        in_sql = set(db.session.scalars(select(Post.id).where(visible_to(person, now))))
        for key, post in every_kind["posts"].items():
            assert can_view_post(person, post, now) == (post.id in in_sql), (person, key)
    # A sample of what that means: the author sees their own drafts, never the trash.
    mine = set(db.session.scalars(select(Post.id).where(visible_to(every_kind["author"], now))))
    assert every_kind["posts"][(PostStatus.DRAFT, None)].id in mine
    assert every_kind["posts"][(PostStatus.TRASH, None)].id not in mine


def test_section_scope_is_none_for_all_and_a_set_for_some(make, every_kind):
    health = every_kind["health"]
    hedda = make.user("editor", username="hedda")
    assign_sections(hedda, [health])
    assert section_ids_for(hedda) == {health.id}
    assert section_ids_for(make.user("editor", username="roaming")) is None
    assert section_ids_for(make.user("admin", username="root")) is None
    assert section_ids_for(make.user("reader", username="rita"), perm=None) is None
    from blog.models import Permission

    assert section_ids_for(make.user("reader", username="sam"), Permission.MODERATE) == set()
    assert section_ids_for(AnonymousUser()) == set()


def test_every_reader_door_shows_the_same_posts(client, every_kind):
    expected = {p.title for k, p in every_kind["posts"].items() if k in EXPECTED_LIVE}
    hidden = {p.title for k, p in every_kind["posts"].items() if k not in EXPECTED_LIVE}

    def shown(text: str) -> set[str]:
        """The kestrel titles a page or document mentions."""
        return {title for title in expected | hidden if title in text}

    assert shown(client.get("/").get_data(as_text=True)) == expected
    assert shown(client.get("/category/health").get_data(as_text=True)) == expected
    assert shown(client.get("/author/arun").get_data(as_text=True)) == expected
    assert shown(client.get("/search?q=kestrel").get_data(as_text=True)) == expected
    assert shown(client.get("/feed.xml").get_data(as_text=True)) == expected
    api = client.get("/api/v1/posts").get_json()
    assert {post["title"] for post in api["data"]} == expected
    assert api["meta"]["total"] == len(expected)
    found = client.get("/api/v1/search?q=kestrel").get_json()
    assert {hit["title"] for hit in found["data"]} == expected
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    slugs = {p.slug for k, p in every_kind["posts"].items() if f"/{p.slug}<" in sitemap}
    assert slugs == {p.slug for k, p in every_kind["posts"].items() if k in EXPECTED_LIVE}
