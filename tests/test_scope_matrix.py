"""Role × section matrix: every staff listing and queue shows each person exactly their scope.

Health and News each hold a post waiting for review, a draft, a held comment, an
open report and a moderation entry in the audit log. An editor of Health, an
editor with no sections assigned (all of them) and an admin read the review
queue, the held comments, the reports, the audit log, the desk's dashboard and
the API's staff listing; each sees what is in their sections and nothing else.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Category, CommentStatus, PostStatus, User
from blog.services import comments as comment_service
from blog.services import moderation
from blog.services import reports as report_service
from blog.services import tokens as token_service
from blog.services.users import set_sections

from .conftest import Auth

SECTIONS = ("Health", "News")
# Who sees which sections' items; the people-level audit entry is for admins only.
SCOPES = {"hedda": {"Health"}, "roaming": {"Health", "News"}, "root": {"Health", "News"}}


@pytest.fixture
def newsroom(make):
    """Two sections with one of everything staff handle in each, and the three viewers."""
    author = make.user("author", username="arun")
    rita = make.user("reader", username="rita")
    sam = make.user("reader", username="sam")
    root = make.user("admin", username="root")
    make.user("editor", username="roaming")
    hedda = make.user("editor", username="hedda")
    for name in SECTIONS:
        section = make.section(name, slug=name.lower())
        make.post(author, section, PostStatus.PENDING, title=f"Review {name}")
        make.post(author, section, PostStatus.DRAFT, title=f"Draft {name}")
        live = make.post(author, section, title=f"Live {name}")
        held = comment_service.add_comment(rita, live, f"Held comment {name}")
        assert held.status == CommentStatus.PENDING
        spam = comment_service.add_comment(sam, live, f"Spam comment {name}")
        comment_service.moderate(root, spam, "spam")  # a section's entry in the audit log
        report_service.report(rita, f"Report reason {name}", post=live)
        if name == "Health":
            set_sections(root, hedda, [section])  # an entry about a person, in no section
    return author


def _client(app, username: str):
    """A fresh client signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _person(username: str) -> User:
    """The person with this username."""
    return db.session.scalar(select(User).where(User.username == username))


def _markers(text: str, kind: str) -> set[str]:
    """The sections whose `kind` marker (e.g. "Review") the text mentions."""
    return {name for name in SECTIONS if f"{kind} {name}" in text}


@pytest.mark.parametrize("viewer", sorted(SCOPES))
def test_the_moderation_queue_shows_exactly_the_viewers_sections(app, newsroom, viewer):
    page = _client(app, viewer).get("/admin/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _markers(text, "Review") == SCOPES[viewer]  # posts waiting for review
    assert _markers(text, "Held comment") == SCOPES[viewer]  # held comments
    assert _markers(text, "Report reason") == SCOPES[viewer]  # open reports


@pytest.mark.parametrize("viewer", sorted(SCOPES))
def test_the_queue_counts_match_the_queues(app, newsroom, viewer):
    person = _person(viewer)
    counts = moderation.counts_for(person)
    expected = len(SCOPES[viewer])
    assert (counts.posts, counts.comments, counts.reports) == (expected,) * 3
    assert len(moderation.posts_in_review(person)) == expected
    assert len(comment_service.held_comments_for(person)) == expected
    assert len(report_service.open_reports_for(person)) == expected


@pytest.mark.parametrize("viewer", sorted(SCOPES))
def test_the_audit_log_shows_exactly_the_viewers_sections(app, newsroom, viewer):
    client = _client(app, viewer)
    text = client.get("/admin/audit").get_data(as_text=True)
    assert _markers(text, "Spam comment") == SCOPES[viewer]
    # Entries about people (assigning sections) belong to no section: admins only.
    assert ("<code>user.sections</code>" in text) == (viewer == "root")
    # Filtering by a section outside one's scope finds nothing of it.
    news = db.session.scalar(select(Category).where(Category.slug == "news"))
    news_only = client.get(f"/admin/audit?section={news.id}").get_data(as_text=True)
    assert _markers(news_only, "Spam comment") == SCOPES[viewer] & {"News"}


@pytest.mark.parametrize("viewer", sorted(SCOPES))
def test_the_desk_dashboard_shows_exactly_the_viewers_sections(app, newsroom, viewer):
    text = _client(app, viewer).get("/editor/").get_data(as_text=True)
    assert _markers(text, "Review") == SCOPES[viewer]  # waiting for your review
    assert _markers(text, "Live") == SCOPES[viewer]  # recently published
    assert _markers(text, "Draft") == set()  # drafts are their author's alone


@pytest.mark.parametrize("viewer", sorted(SCOPES))
def test_the_api_staff_listing_shows_exactly_the_viewers_sections(app, newsroom, viewer):
    person = _person(viewer)
    _token, secret = token_service.create_token(person, "matrix")
    answer = app.test_client().get(
        "/api/v1/posts?status=pending,draft", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200
    titles = {post["title"] for post in answer.get_json()["data"]}
    expected = {f"{kind} {name}" for kind in ("Review", "Draft") for name in SCOPES[viewer]}
    assert titles == expected
    assert answer.get_json()["meta"]["total"] == len(expected)
