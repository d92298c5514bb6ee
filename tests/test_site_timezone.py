"""The site's time zone: times are stored in UTC, shown and typed in the zone the admin chose."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from flask import g
from sqlalchemy import select, update

from blog.extensions import db
from blog.models import AuditEntry, Comment, Post, PostStatus
from blog.services import audit
from blog.services import comments as comment_service
from blog.services import settings as site_settings

from .conftest import Auth, csrf_from

BEFORE_SPRING = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # London on GMT
AFTER_SPRING = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)  # London on BST


@pytest.fixture
def newsroom(make):
    """An admin, an author and a draft in the Health section."""
    health = make.section("Health", slug="health")
    boss = make.user("admin", username="boss")
    ana = make.user("author", username="ana")
    draft = make.post(author=ana, section=health, status=PostStatus.DRAFT, title="Spring Tides")
    return {"health": health, "boss": boss, "ana": ana, "draft": draft}


def _as(app, username):
    """A test browser signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _set_zone(boss, name: str):
    """Choose the site's time zone on the settings page, as an admin does."""
    page = boss.get("/admin/settings").get_data(as_text=True)
    return boss.post(
        "/admin/settings",
        data={
            "csrf_token": csrf_from(page),
            "site_name": "My Circle Story",
            "posts_per_page": "10",
            "comment_link_limit": "2",
            "timezone": name,
        },
    )


def _zone_now() -> str:
    """The zone the settings hold now (read again, not from this request's copy)."""
    g.pop("circle_settings", None)
    return site_settings.current().timezone


def _schedule(client, post: Post, typed: str):
    """Type a time into the editor's schedule field and press Schedule."""
    page = client.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    return client.post(
        f"/editor/posts/{post.id}/schedule",
        data={"csrf_token": csrf_from(page), "version": post.version, "publish_at": typed},
        follow_redirects=True,
    )


def _logged(actor, post: Post, when: datetime) -> None:
    """An audit entry about post, written at when."""
    entry = audit.record(actor, "post.publish", post)
    entry.created_at = when
    db.session.commit()


def _stored(post: Post) -> Post:
    """The post as the database has it now."""
    db.session.expire_all()
    return db.session.get(Post, post.id)


# --- The setting ----------------------------------------------------------------


def test_the_site_starts_in_utc_and_offers_every_zone(app, newsroom):
    boss = _as(app, "boss")
    page = boss.get("/admin/settings").get_data(as_text=True)
    assert _zone_now() == "UTC"
    assert '<option selected value="UTC">UTC</option>' in page
    assert '<optgroup label="Europe">' in page
    assert '<option value="Asia/Kolkata">Asia/Kolkata</option>' in page


def test_an_admin_chooses_a_zone_and_the_page_shows_it_chosen(app, newsroom):
    boss = _as(app, "boss")
    assert _set_zone(boss, "Europe/London").status_code == 302
    assert _zone_now() == "Europe/London"
    page = boss.get("/admin/settings").get_data(as_text=True)
    assert '<option selected value="Europe/London">Europe/London</option>' in page
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "settings.change")
    ).all()
    assert "Europe/London" in entry.details


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "../../etc/passwd", "europe/london"])
def test_an_unknown_zone_is_refused_in_words(app, newsroom, name):
    boss = _as(app, "boss")
    response = _set_zone(boss, name)
    assert response.status_code == 400
    assert "is not a time zone we know" in response.get_data(as_text=True)
    assert _zone_now() == "UTC"


def test_changing_the_zone_refreshes_cached_reader_pages(cached, app, client, make, newsroom):
    make.post(
        author=newsroom["ana"],
        section=newsroom["health"],
        title="Late Night",
        published_at=datetime(2026, 6, 1, 23, 30, tzinfo=UTC),
    )
    assert "1 June 2026" in client.get("/").get_data(as_text=True)
    assert client.get("/").headers["X-Cache"] == "HIT"
    _set_zone(_as(app, "boss"), "Asia/Kolkata")  # 05:00 the next morning there
    home = client.get("/").get_data(as_text=True)
    assert "2 June 2026" in home
    assert 'datetime="2026-06-01T23:30:00+00:00"' in home  # the machine-readable time stays UTC


# --- Times shown on staff pages across a daylight-saving change -----------------


def test_staff_pages_show_gmt_before_and_bst_after_the_spring_change(app, make, newsroom):
    winter = make.post(author=newsroom["ana"], section=newsroom["health"], title="Winter Coats")
    summer = make.post(author=newsroom["ana"], section=newsroom["health"], title="Summer Hats")
    for post, when in ((winter, BEFORE_SPRING), (summer, AFTER_SPRING)):
        db.session.execute(update(Post).where(Post.id == post.id).values(updated_at=when))
    first = comment_service.add_comment(newsroom["boss"], winter, "Warm and dry.")
    second = comment_service.add_comment(newsroom["boss"], summer, "Lovely and light.")
    for comment, when in ((first, BEFORE_SPRING), (second, AFTER_SPRING)):
        db.session.execute(update(Comment).where(Comment.id == comment.id).values(created_at=when))
    _logged(newsroom["boss"], winter, BEFORE_SPRING)
    _logged(newsroom["boss"], summer, AFTER_SPRING)
    boss = _as(app, "boss")
    assert "28 Mar 2026, 12:00 UTC" in boss.get("/editor/posts").get_data(as_text=True)

    _set_zone(boss, "Europe/London")
    pages = {
        "All posts": boss.get("/editor/posts").get_data(as_text=True),
        "All comments": boss.get("/admin/comments?status=approved").get_data(as_text=True),
        "audit log": boss.get("/admin/audit").get_data(as_text=True),
    }
    for name, page in pages.items():
        assert "28 Mar 2026, 12:00" in page and "GMT" in page, name
        assert "30 Mar 2026, 13:00" in page and "BST" in page, name
    assert "28 Mar 2026, 12:00 GMT" in pages["All posts"]
    assert "30 Mar 2026, 13:00 BST" in pages["All posts"]
    assert "28 Mar 2026, 12:00 GMT" in pages["All comments"]
    assert "30 Mar 2026, 13:00 BST" in pages["All comments"]
    assert "30 Mar 2026, 13:00:00 BST" in pages["audit log"]
    # The page still tells machines the UTC moment.
    assert 'datetime="2026-03-30T12:00:00+00:00"' in pages["All posts"]
    # Stored times stay UTC.
    assert _stored(summer).updated_at == AFTER_SPRING


def test_the_dashboard_shows_times_in_another_zone(app, make, newsroom):
    post = newsroom["draft"]
    db.session.execute(update(Post).where(Post.id == post.id).values(updated_at=BEFORE_SPRING))
    db.session.commit()
    ana = _as(app, "ana")
    _set_zone(_as(app, "boss"), "America/New_York")
    assert "28 Mar 2026, 08:00 EDT" in ana.get("/editor/").get_data(as_text=True)
    _set_zone(_as(app, "boss"), "Asia/Kolkata")
    assert "28 Mar 2026, 17:30 IST" in ana.get("/editor/").get_data(as_text=True)


def test_the_audit_log_days_are_the_sites_days(app, newsroom):
    # 23:30 UTC on 29 March is already 30 March in London (BST).
    _logged(newsroom["boss"], newsroom["draft"], datetime(2026, 3, 29, 23, 30, tzinfo=UTC))
    boss = _as(app, "boss")
    _set_zone(boss, "Europe/London")
    on_the_30th = boss.get("/admin/audit?since=2026-03-30&until=2026-03-30").get_data(as_text=True)
    assert "30 Mar 2026, 00:30:00 BST" in on_the_30th
    on_the_29th = boss.get("/admin/audit?since=2026-03-29&until=2026-03-29").get_data(as_text=True)
    assert "00:30:00 BST" not in on_the_29th


# --- Times typed in: scheduling, and the daylight-saving gap and fold ------------


def test_a_time_typed_in_new_york_is_stored_in_utc_and_shown_back(app, newsroom):
    boss = _as(app, "boss")
    _set_zone(boss, "America/New_York")
    page = _schedule(boss, newsroom["draft"], "2027-07-04T09:00").get_data(as_text=True)
    assert "Scheduled." in page
    stored = _stored(newsroom["draft"])
    assert stored.status == PostStatus.SCHEDULED
    assert stored.published_at == datetime(2027, 7, 4, 13, 0, tzinfo=UTC)
    assert "4 July 2027, 09:00" in page
    assert 'value="2027-07-04T09:00"' in page  # the schedule field shows it back as typed
    log = boss.get("/admin/audit").get_data(as_text=True)
    assert "“Spring Tides” in Health for 4 Jul 2027, 09:00 EDT." in log


def test_a_time_the_clocks_skip_is_refused(app, newsroom):
    boss = _as(app, "boss")
    _set_zone(boss, "Europe/London")
    for typed in ("2026-03-29T01:30", "2027-03-28T01:30"):
        page = _schedule(boss, newsroom["draft"], typed).get_data(as_text=True)
        assert "does not exist in Europe/London: the clocks go forward then" in page
        assert _stored(newsroom["draft"]).status == PostStatus.DRAFT
    # Just after the gap is fine, in summer time.
    _schedule(boss, newsroom["draft"], "2027-03-28T02:00")
    assert _stored(newsroom["draft"]).published_at == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)


def test_a_time_that_happens_twice_is_its_first_occurrence(app, newsroom):
    boss = _as(app, "boss")
    _set_zone(boss, "Europe/London")
    page = _schedule(boss, newsroom["draft"], "2027-10-31T01:30").get_data(as_text=True)
    assert "Scheduled." in page
    # 01:30 BST, the first of the two, is 00:30 UTC (the second would be 01:30 UTC).
    assert _stored(newsroom["draft"]).published_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert "31 October 2027, 01:30" in page


def test_the_moderation_queue_schedules_in_the_site_zone(app, newsroom):
    boss = _as(app, "boss")
    _set_zone(boss, "Asia/Kolkata")
    settings = asdict(site_settings.current())
    assert settings["timezone"] == "Asia/Kolkata"
    ana = _as(app, "ana")
    page = ana.get(f"/editor/posts/{newsroom['draft'].id}/edit").get_data(as_text=True)
    ana.post(
        f"/editor/posts/{newsroom['draft'].id}/submit",
        data={"csrf_token": csrf_from(page), "version": newsroom["draft"].version},
    )
    queue = boss.get("/admin/").get_data(as_text=True)
    assert "Publish at (Asia/Kolkata)" in queue
