"""All comments at /admin/comments: listing, search, edits, replies, bulk actions and races."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import AuditEntry, Comment, CommentStatus
from blog.services import ServiceError
from blog.services import comments as comment_service
from blog.services import settings as site_settings
from blog.services.users import assign_sections

from .conftest import Auth, csrf_from


@pytest.fixture
def newsroom(make):
    """Storybook and Fashion, a story in each, two admins, section editors and readers."""
    story = make.section("Storybook", slug="storybook")
    fashion = make.section("Fashion", slug="fashion")
    writer = make.user("author", username="writer", display_name="Wren Writer")
    people = {
        "eden": make.user("admin", username="eden", display_name="Eden Editor"),
        "abel": make.user("admin", username="abel", display_name="Abel Admin"),
        "sally": make.user("editor", username="sally", display_name="Sally Story"),
        "fay": make.user("editor", username="fay", display_name="Fay Fashion"),
        "rita": make.user("reader", username="rita", display_name="Rita Reader"),
        "sam": make.user("reader", username="sam", display_name="Sam Sayer"),
    }
    assign_sections(people["sally"], [story])
    assign_sections(people["fay"], [fashion])
    bus = make.post(author=writer, section=story, title="The Night Bus")
    coats = make.post(author=writer, section=fashion, title="Coats")
    return {"story": story, "fashion": fashion, "writer": writer, "bus": bus, "coats": coats,
            **people}


def _as(app, username):
    """A test browser signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _fresh(comment) -> Comment:
    """The comment as the database has it now."""
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


def _moderate(client, comment_ids, action, seen, return_to="/admin/comments"):
    """Post the moderation form as the page sends it, with the statuses seen."""
    page = client.get("/admin/comments").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "ids": [str(i) for i in comment_ids],
            "action": action, "return_to": return_to}
    data.update({f"seen-{i}": status for i, status in zip(comment_ids, seen, strict=True)})
    return client.post("/admin/comments/moderate", data=data, follow_redirects=True)


# -- The listing -------------------------------------------------------------------------


def test_all_comments_by_status_with_counts_and_sections(app, newsroom):
    held = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "Loved the ending.")
    shown = comment_service.add_comment(newsroom["sam"], newsroom["bus"], "Read it twice.")
    comment_service.moderate(newsroom["eden"], shown, "approve")
    comment_service.add_comment(newsroom["sam"], newsroom["coats"], "Wool or nothing.")

    sally = _as(app, "sally")
    pending = sally.get("/admin/comments").get_data(as_text=True)
    assert "Loved the ending." in pending and "Read it twice." not in pending
    assert "Wool or nothing." not in pending  # Fashion is not Sally's section
    tabs = dict(re.findall(r'status=(\w+)[^>]*>(?:\w+) <span class="badge">(\d+)<', pending))
    assert tabs == {"pending": "1", "approved": "1", "spam": "0", "trash": "0"}
    approved = sally.get("/admin/comments?status=approved").get_data(as_text=True)
    assert "Read it twice." in approved and "Loved the ending." not in approved
    # The article, at the comment, and the commenter's staff page (for those who manage people).
    assert f'href="/storybook/{newsroom["bus"].slug}#comment-{shown.id}"' in approved
    assert f"/admin/users/{newsroom['sam'].id}" not in approved
    admin_page = _as(app, "eden").get("/admin/comments?status=approved").get_data(as_text=True)
    assert f'href="/admin/users/{newsroom["sam"].id}"' in admin_page
    assert f'href="/admin/comments/{held.id}"' in pending
    assert _as(app, "rita").get("/admin/comments").status_code == 403
    assert sally.get("/admin/comments?status=nonsense").status_code == 404


def test_search_over_text_and_names_and_the_article_filter(app, newsroom, make):
    other = make.post(author=newsroom["writer"], section=newsroom["story"], title="Tram Lines")
    comment_service.add_comment(newsroom["rita"], newsroom["bus"], "The driver was kind.")
    comment_service.add_comment(newsroom["sam"], other, "Trams are slower.")
    comment_service.add_comment(newsroom["sam"], newsroom["bus"], "100% true")
    eden = _as(app, "eden")
    by_text = eden.get("/admin/comments?q=driver").get_data(as_text=True)
    assert "The driver was kind." in by_text and "Trams are slower." not in by_text
    by_name = eden.get("/admin/comments?q=Sam Sayer").get_data(as_text=True)
    assert "Trams are slower." in by_name and "The driver was kind." not in by_name
    literal = eden.get("/admin/comments?q=100%25").get_data(as_text=True)
    assert "100% true" in literal and "Trams are slower." not in literal
    on_bus = eden.get(f"/admin/comments?post={newsroom['bus'].id}").get_data(as_text=True)
    assert "The driver was kind." in on_bus and "Trams are slower." not in on_bus
    assert "Comments on “The Night Bus”" in on_bus


def test_the_queue_links_each_comment_to_its_article(app, newsroom):
    comment = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "Which route?")
    queue = _as(app, "sally").get("/admin/").get_data(as_text=True)
    assert f'href="/storybook/{newsroom["bus"].slug}#comments"' in queue
    assert f'href="/admin/comments/{comment.id}"' in queue


def test_all_comments_runs_the_same_queries_for_5_and_50_rows(app, newsroom, make, queries):
    readers = [make.user("reader") for _ in range(5)]
    assert site_settings.current().comments_moderated  # so all fifty wait, on one tab

    def add(n):
        for i in range(n):
            comment_service.add_comment(readers[i % 5], newsroom["bus"], f"Thought {i}")

    eden = _as(app, "eden")

    def count() -> int:
        eden.get("/admin/comments")  # warm the settings cache
        with queries() as statements:
            page = eden.get("/admin/comments")
        assert page.status_code == 200
        return len(statements), page.get_data(as_text=True).count('id="pick-')

    add(5)
    five, rows = count()
    assert rows == 5
    add(45)
    fifty, rows = count()
    assert rows == 50
    assert fifty == five


# -- Bulk actions and races -------------------------------------------------------------


def test_bulk_actions_report_refusals_per_comment(app, newsroom):
    ours = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "On the bus.")
    theirs = comment_service.add_comment(newsroom["sam"], newsroom["coats"], "On coats.")
    page = _moderate(_as(app, "sally"), [ours.id, theirs.id], "approve", ["pending", "pending"])
    text = page.get_data(as_text=True)
    assert "Approve: 1 comment changed." in text
    assert "The comment by Sam Sayer on “Coats”: You may not moderate" in text
    assert _fresh(ours).status == CommentStatus.APPROVED
    assert _fresh(theirs).status == CommentStatus.PENDING


@pytest.mark.parametrize(
    "action, status",
    [("hold", CommentStatus.PENDING), ("spam", CommentStatus.SPAM),
     ("trash", CommentStatus.TRASH)],
)
def test_bulk_unapprove_spam_trash_and_restore(app, newsroom, action, status):
    comment = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "Hello.")
    comment_service.moderate(newsroom["eden"], comment, "approve")
    eden = _as(app, "eden")
    _moderate(eden, [comment.id], action, ["approved"])
    assert _fresh(comment).status == status
    if status != CommentStatus.PENDING:
        _moderate(eden, [comment.id], "restore", [status.value])
        assert _fresh(comment).status == CommentStatus.PENDING


def test_two_admins_racing_on_one_comment(app, newsroom):
    comment = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "Stop here?")
    eden, abel = _as(app, "eden"), _as(app, "abel")
    # Both open the list and see the comment pending.
    assert 'value="pending"' in eden.get("/admin/comments").get_data(as_text=True)
    assert 'value="pending"' in abel.get("/admin/comments").get_data(as_text=True)
    first = _moderate(eden, [comment.id], "approve", ["pending"]).get_data(as_text=True)
    assert "Approve: 1 comment changed." in first
    second = _moderate(abel, [comment.id], "trash", ["pending"]).get_data(as_text=True)
    assert "This comment was already approved by Eden Editor." in second
    assert "Move to trash: 0 comments changed." in second
    assert _fresh(comment).status == CommentStatus.APPROVED
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "comment")).all()
    assert actions == ["comment.approve"]


def test_the_race_is_refused_in_the_service_too(newsroom):
    comment = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "Late again.")
    comment_service.moderate(newsroom["abel"], comment, "spam", seen="pending")
    with pytest.raises(ServiceError, match="already marked as spam by Abel Admin"):
        comment_service.moderate(newsroom["eden"], comment, "approve", seen="pending")
    assert _fresh(comment).status == CommentStatus.SPAM


# -- Edit and reply ------------------------------------------------------------------------


def test_staff_edit_keeps_the_earlier_text(app, newsroom, client):
    comment = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "Teh bus was late.")
    comment_service.moderate(newsroom["eden"], comment, "approve")
    sally = _as(app, "sally")
    page = sally.get(f"/admin/comments/{comment.id}").get_data(as_text=True)
    response = sally.post(
        f"/admin/comments/{comment.id}/edit",
        data={"edit-csrf_token": csrf_from(page), "edit-body": "The bus was late."},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "The text before:" in text and "Teh bus was late." in text
    assert _fresh(comment).body == "The bus was late."
    article = client.get(f"/storybook/{newsroom['bus'].slug}").get_data(as_text=True)
    assert "The bus was late." in article and "Teh bus" not in article
    fay = _as(app, "fay")
    assert fay.get(f"/admin/comments/{comment.id}").status_code == 404
    refused = fay.post(
        f"/admin/comments/{comment.id}/edit",
        data={"edit-csrf_token": csrf_from(fay.get("/admin/comments").get_data(as_text=True)),
              "edit-body": "Hijacked"},
    )
    assert refused.status_code == 404 and _fresh(comment).body == "The bus was late."


def test_staff_reply_is_published_at_once(app, newsroom, client):
    comment = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "Is there a sequel?")
    sally = _as(app, "sally")
    held_page = sally.get(f"/admin/comments/{comment.id}").get_data(as_text=True)
    assert "Approve it first." in held_page
    comment_service.moderate(newsroom["eden"], comment, "approve")
    page = sally.get(f"/admin/comments/{comment.id}").get_data(as_text=True)
    sally.post(
        f"/admin/comments/{comment.id}/reply",
        data={"reply-csrf_token": csrf_from(page), "reply-body": "Yes, next month."},
    )
    reply = db.session.scalar(select(Comment).where(Comment.parent_id == comment.id))
    assert reply.status == CommentStatus.APPROVED and reply.author_id == newsroom["sally"].id
    assert "Yes, next month." in client.get(f"/storybook/{newsroom['bus'].slug}").get_data(
        as_text=True)


# -- Staff comments are not held -----------------------------------------------------------


def test_staff_comments_are_not_held(newsroom, make):
    writer = newsroom["writer"]
    own = comment_service.add_comment(writer, newsroom["bus"], "Thanks for reading!")
    assert own.status == CommentStatus.APPROVED and own.held_reason == ""
    sally = comment_service.add_comment(newsroom["sally"], newsroom["bus"], "From the desk.")
    assert sally.status == CommentStatus.APPROVED
    # An editor of another section, and an author on someone else's story, are readers here.
    fay = comment_service.add_comment(newsroom["fay"], newsroom["bus"], "Nice one.")
    assert fay.status == CommentStatus.PENDING and fay.held_reason == "first comment"
    newcomer = make.user("author")
    theirs = comment_service.add_comment(newcomer, newsroom["bus"], "Lovely.")
    assert theirs.status == CommentStatus.PENDING


# -- Valid HTML ----------------------------------------------------------------------------


def test_staff_comment_pages_are_valid_html(app, newsroom, tmp_path):
    """The Nu HTML Checker finds no error on All comments, a comment's page, queue and log."""
    from .test_html_valid import html_errors

    comment = comment_service.add_comment(newsroom["rita"], newsroom["bus"], "Stop <b>here</b>")
    comment_service.moderate(newsroom["eden"], comment, "approve")
    comment_service.staff_edit(newsroom["eden"], comment, "Stop here, please")
    comment_service.add_comment(newsroom["sam"], newsroom["bus"], "Held for now")
    eden = _as(app, "eden")
    pages = {
        name: eden.get(url).get_data(as_text=True)
        for name, url in {
            "pending": "/admin/comments",
            "approved": "/admin/comments?status=approved&q=stop",
            "comment": f"/admin/comments/{comment.id}",
            "queue": "/admin/",
            "audit": "/admin/audit?since=2020-01-01",
        }.items()
    }
    errors = html_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)
