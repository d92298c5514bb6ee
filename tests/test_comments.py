"""Readers' comments: holding rules, honeypot and limits, the ten-minute window, bad input,
what the article page shows (and how many queries it takes), and moderation rights."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask import g
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import AuditEntry, Comment, CommentStatus, Permission, PostStatus, utcnow
from blog.services import Forbidden, NotFound, ServiceError
from blog.services import comments as comment_service
from blog.services import settings as site_settings
from blog.services.users import assign_sections

from .conftest import Auth, count_queries, csrf_from
from .test_xss import PAYLOADS, dangers_in


@pytest.fixture(autouse=True)
def _fresh_settings(app):
    """Settings read straight from the database in each test (the test's g outlives it)."""
    g.pop("circle_settings", None)
    yield
    g.pop("circle_settings", None)


@pytest.fixture
def desk(make):
    """Health and Fashion, a story in each and a draft, readers, section editors and an admin."""
    return make_desk(make)


def make_desk(make) -> dict:
    """Make the people, sections and posts of the `desk` fixture."""
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    writer = make.user("author", username="writer")
    people = {
        "rita": make.user("reader", username="rita", display_name="Rita"),
        "sam": make.user("reader", username="sam", display_name="Sam"),
        "hedda": make.user("editor", username="hedda"),
        "fay": make.user("editor", username="fay"),
        "root": make.user("admin", username="root"),
    }
    assign_sections(people["hedda"], [health])
    assign_sections(people["fay"], [fashion])
    return {
        "health": health,
        "fashion": fashion,
        "story": make.post(author=writer, section=health, title="Sleep well"),
        "style": make.post(author=writer, section=fashion, title="Mending season"),
        "draft": make.post(author=writer, section=health, title="Not yet", status=PostStatus.DRAFT),
        **people,
    }


def _url(post) -> str:
    """The article's address."""
    return f"/{post.category.slug}/{post.slug}"


def _as(app, username):
    """A test browser signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _post_comment(client, post, body, **extra):
    """Post the comment form on the article page, with its CSRF token."""
    token = csrf_from(client.get(_url(post)).get_data(as_text=True))
    data = {"csrf_token": token, "body": body, "website": "", **extra}
    return client.post(f"{_url(post)}/comments", data=data)


def _token(client, post) -> str:
    """The CSRF token from the article page, as client sees it."""
    return csrf_from(client.get(_url(post)).get_data(as_text=True))


def _settings(admin, **changes):
    """Change some site settings as an admin, keeping the rest."""
    site_settings.update(admin, {**asdict(site_settings.current()), **changes})


def _trusted(reader, post):
    """Give a reader one approved comment, so their next ones need no moderator."""
    comment = comment_service.add_comment(reader, post, "A first, approved comment.")
    comment.status = CommentStatus.APPROVED
    db.session.commit()
    return comment


def _fresh(comment) -> Comment:
    """The comment as the database has it now."""
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


def _count() -> int:
    """How many comments exist, in any status."""
    return db.session.scalar(select(func.count()).select_from(Comment))


# -- Holding rules ----------------------------------------------------------------------


def test_first_comment_waits_then_later_ones_appear_at_once(app, client, desk):
    rita = _as(app, "rita")
    response = _post_comment(rita, desk["story"], "What a useful piece.")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{_url(desk['story'])}#comments"
    page = rita.get(_url(desk["story"])).get_data(as_text=True)
    assert "Your comment is waiting for moderation." in page
    assert "Your comments waiting for moderation" in page and "What a useful piece." in page

    first = db.session.scalar(select(Comment))
    assert first.status == CommentStatus.PENDING and first.held_reason == "first comment"
    assert "What a useful piece." not in client.get(_url(desk["story"])).get_data(as_text=True)

    comment_service.moderate(desk["hedda"], first, "approve")
    assert "What a useful piece." in client.get(_url(desk["story"])).get_data(as_text=True)

    response = _post_comment(rita, desk["story"], "And another thought.")
    page = rita.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your comment is published." in page
    assert "And another thought." in client.get(_url(desk["story"])).get_data(as_text=True)


def test_without_first_comment_moderation_comments_appear_at_once(app, client, desk):
    _settings(desk["root"], comments_moderated=False)
    _post_comment(_as(app, "rita"), desk["story"], "Straight onto the page.")
    assert db.session.scalar(select(Comment.status)) == CommentStatus.APPROVED
    assert "Straight onto the page." in client.get(_url(desk["story"])).get_data(as_text=True)


def test_more_links_than_allowed_are_held(desk):
    rita, story = desk["rita"], desk["story"]
    _trusted(rita, story)
    two = comment_service.add_comment(rita, story, "See https://a.example and https://b.example")
    assert two.status == CommentStatus.APPROVED
    three = comment_service.add_comment(
        rita, story, "https://a.example https://b.example https://c.example"
    )
    assert three.status == CommentStatus.PENDING
    assert three.held_reason == "3 links (the limit is 2)"

    _settings(desk["root"], comment_link_limit=0)
    one = comment_service.add_comment(rita, story, "Only www.example.org here")
    assert one.status == CommentStatus.PENDING and "links" in one.held_reason


def test_blocklisted_words_are_held_whole_words_any_case(desk):
    rita, story = desk["rita"], desk["story"]
    _trusted(rita, story)
    _settings(desk["root"], comment_blocklist="casino\ncheap pills")
    held = comment_service.add_comment(rita, story, "Visit my CASINO tonight!")
    assert held.status == CommentStatus.PENDING
    assert held.held_reason == "contains the blocked word “casino”"
    phrase = comment_service.add_comment(rita, story, "Buy Cheap   pills? No: cheap pills.")
    assert phrase.status == CommentStatus.PENDING
    for innocent in ("Casinos are not words on the list.", "An occasional walk helps."):
        assert comment_service.add_comment(rita, story, innocent).status == "approved"


def test_section_editors_comments_are_never_held(desk):
    _settings(desk["root"], comment_blocklist="casino")
    comment = comment_service.add_comment(desk["hedda"], desk["story"], "casino " * 3)
    assert comment.status == CommentStatus.APPROVED
    # Fay does not moderate Health, so her first comment there waits like anyone's.
    assert comment_service.add_comment(desk["fay"], desk["story"], "Hi").status == "pending"


# -- Bots --------------------------------------------------------------------------------


def test_honeypot_pretends_success_and_keeps_nothing(app, desk):
    rita = _as(app, "rita")
    response = _post_comment(rita, desk["story"], "Buy now", website="http://spam.example")
    assert response.status_code == 302
    assert "waiting for moderation" in rita.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert _count() == 0


def test_honeypot_is_hidden_from_people(app, desk):
    page = _as(app, "rita").get(_url(desk["story"])).get_data(as_text=True)
    field = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', page, re.S)
    assert field, "no honeypot on the page"
    assert 'name="website"' in field[0] and 'tabindex="-1"' in field[0]
    assert 'autocomplete="off"' in field[0]


def test_commenting_is_rate_limited(app, desk):
    _settings(desk["root"], comments_moderated=False)
    rita = _as(app, "rita")
    token = _token(rita, desk["story"])
    url = f"{_url(desk['story'])}/comments"
    for n in range(5):
        response = rita.post(url, data={"csrf_token": token, "body": f"Comment {n}"})
        assert response.status_code == 302, n
    response = rita.post(url, data={"csrf_token": token, "body": "One too many"})
    assert response.status_code == 429
    assert _count() == 5
    # The limit is per person: someone else may still comment.
    assert _post_comment(_as(app, "sam"), desk["story"], "Hello").status_code == 302


# -- Who may post where ------------------------------------------------------------------


def test_guests_are_sent_to_sign_in(client, desk):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        f"{_url(desk['story'])}/comments", data={"csrf_token": token, "body": "Hi"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "%23comments" in response.headers["Location"]
    assert _count() == 0
    page = client.get(_url(desk["story"])).get_data(as_text=True)
    assert "Sign in to comment" in page and 'name="body"' not in page


def test_people_without_the_permission_get_403(app, desk):
    rita = _as(app, "rita")
    token = _token(rita, desk["story"])
    role = desk["rita"].role
    role.permissions = role.permissions & ~(Permission.COMMENT | Permission.REPORT)
    db.session.commit()
    data = {"csrf_token": token, "body": "Hi", "reason": "Spam, surely"}
    assert rita.post(f"{_url(desk['story'])}/comments", data=data).status_code == 403
    assert rita.post(f"{_url(desk['story'])}/report", data=data).status_code == 403
    page = rita.get(_url(desk["story"])).get_data(as_text=True)
    assert "Leave a comment" not in page and "Report this article" not in page
    assert _count() == 0


def test_comments_on_a_draft_are_refused(app, desk):
    rita = _as(app, "rita")
    token = _token(rita, desk["story"])
    response = rita.post(
        f"/health/{desk['draft'].slug}/comments", data={"csrf_token": token, "body": "Hi"}
    )
    assert response.status_code == 404
    with pytest.raises(NotFound):
        comment_service.add_comment(desk["rita"], desk["draft"], "Hi")
    assert _count() == 0


def test_comment_addresses_take_only_post(client, desk):
    comment = _trusted(desk["rita"], desk["story"])
    # GET on the comments address is the comment page (public.comment_page): a guest is
    # sent to sign in first.
    guest = client.get(f"{_url(desk['story'])}/comments")
    assert guest.status_code == 302 and "/login" in guest.headers["Location"]
    for url in (
        f"{_url(desk['story'])}/report",
        f"/comments/{comment.id}/edit",
        f"/comments/{comment.id}/delete",
        f"/comments/{comment.id}/report",
    ):
        assert client.get(url).status_code == 405, url


def test_forms_need_the_csrf_token(app, desk):
    rita = _as(app, "rita")
    response = rita.post(f"{_url(desk['story'])}/comments", data={"body": "No token"})
    assert response.status_code == 400
    assert _count() == 0


# -- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,message",
    [
        ("", "Write something before posting your comment."),
        ("   \n\t  ", "Write something before posting your comment."),
        ("x" * 20_000, "Keep your comment under 5,000 characters."),
    ],
)
def test_bad_comments_come_back_with_a_clear_message(app, desk, body, message):
    rita = _as(app, "rita")
    response = _post_comment(rita, desk["story"], body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page and 'id="comment-body-error"' in page
    assert _count() == 0


def test_service_refuses_empty_and_overlong_text(desk):
    for text in ("", "  ", "y" * 5001):
        with pytest.raises(ServiceError) as caught:
            comment_service.add_comment(desk["rita"], desk["story"], text)
        assert caught.value.field == "body"
    exact = comment_service.add_comment(desk["rita"], desk["story"], "z" * 5000)
    assert len(exact.body) == 5000


def test_html_and_script_become_harmless_text(app, client, desk):
    _settings(desk["root"], comments_moderated=False)
    rita = _as(app, "rita")
    text = '<script>alert("x")</script><b onmouseover="alert(1)">bold</b>'
    assert _post_comment(rita, desk["story"], text).status_code == 302
    page = client.get(_url(desk["story"])).get_data(as_text=True)
    assert "<script>alert" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;alert(" in page
    assert dangers_in(page) == []


def test_every_xss_payload_renders_harmlessly(client, desk):
    rita, story = desk["rita"], desk["story"]
    _trusted(rita, story)
    for payload in PAYLOADS:
        comment_service.add_comment(rita, story, payload)
    page = client.get(_url(story)).get_data(as_text=True)
    assert page.count('class="comment"') >= 2
    assert dangers_in(page) == []


def test_links_are_not_endorsed(app, client, desk):
    _trusted(desk["rita"], desk["story"])
    comment_service.add_comment(desk["rita"], desk["story"], "Read https://example.org/a?b=1\nok")
    page = client.get(_url(desk["story"])).get_data(as_text=True)
    assert '<a href="https://example.org/a?b=1" rel="nofollow ugc noopener">' in page
    assert "https://example.org/a?b=1</a><br>ok" in page


def test_a_form_with_errors_keeps_the_text_and_opens_its_reply_box(app, desk):
    top = _trusted(desk["sam"], desk["story"])
    rita = _as(app, "rita")
    response = _post_comment(rita, desk["story"], "r" * 5001, parent_id=str(top.id))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'<details class="comment__action" open>\s*<summary>Reply', page)
    assert f'id="reply-{top.id}-body-error"' in page
    assert "r" * 5001 in page  # nothing the reader wrote is lost


# -- Replies -----------------------------------------------------------------------------


def test_a_reply_to_a_reply_attaches_to_the_top_comment(app, client, desk):
    story = desk["story"]
    top = _trusted(desk["sam"], story)
    _trusted(desk["rita"], desk["style"])
    reply = comment_service.add_comment(desk["rita"], story, "First reply", parent_id=top.id)
    deeper = comment_service.add_comment(desk["sam"], story, "Reply to reply", parent_id=reply.id)
    assert reply.parent_id == top.id and deeper.parent_id == top.id

    page = client.get(_url(story)).get_data(as_text=True)
    replies = re.search(r'<ol class="comment-list comment-list--replies".*?</ol>', page, re.S)[0]
    assert "First reply" in replies and "Reply to reply" in replies
    assert "3 comments" in page


def test_replies_only_to_shown_comments_on_the_same_post(desk):
    story, style = desk["story"], desk["style"]
    held = comment_service.add_comment(desk["sam"], story, "Waiting")
    assert held.status == CommentStatus.PENDING
    with pytest.raises(ServiceError):
        comment_service.add_comment(desk["rita"], story, "Reply", parent_id=held.id)
    elsewhere = _trusted(desk["sam"], style)
    with pytest.raises(ServiceError):
        comment_service.add_comment(desk["rita"], story, "Reply", parent_id=elsewhere.id)
    with pytest.raises(ServiceError):
        comment_service.add_comment(desk["rita"], story, "Reply", parent_id=999_999)


def test_reply_form_per_top_level_comment_only(app, desk):
    story = desk["story"]
    top = _trusted(desk["sam"], story)
    reply = comment_service.add_comment(desk["sam"], story, "A reply", parent_id=top.id)
    page = _as(app, "rita").get(_url(story)).get_data(as_text=True)
    assert f'id="reply-{top.id}-body"' in page
    assert f'id="reply-{reply.id}-body"' not in page


# -- Editing and deleting one's own comment -------------------------------------------


def test_own_comment_can_be_edited_and_deleted_for_ten_minutes(app, client, desk):
    story = desk["story"]
    _trusted(desk["rita"], story)
    comment = comment_service.add_comment(desk["rita"], story, "Tyop here")
    rita = _as(app, "rita")
    page = rita.get(_url(story)).get_data(as_text=True)
    assert f"/comments/{comment.id}/edit" in page and f"/comments/{comment.id}/delete" in page

    token = _token(rita, story)
    response = rita.post(
        f"/comments/{comment.id}/edit", data={"csrf_token": token, "body": "Typo fixed"}
    )
    assert response.status_code == 302
    assert _fresh(comment).body == "Typo fixed"
    assert "Typo fixed" in client.get(_url(story)).get_data(as_text=True)

    response = rita.post(f"/comments/{comment.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert _fresh(comment).status == CommentStatus.TRASH
    assert "Typo fixed" not in client.get(_url(story)).get_data(as_text=True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "comment.delete"))
    assert entry.actor_name == "rita" and entry.target_id == comment.id


def test_after_ten_minutes_the_comment_stays(app, desk):
    story = desk["story"]
    _trusted(desk["rita"], story)
    comment = comment_service.add_comment(desk["rita"], story, "Settled words")
    comment.created_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    rita = _as(app, "rita")
    page = rita.get(_url(story)).get_data(as_text=True)
    assert f"/comments/{comment.id}/edit" not in page
    assert f"/comments/{comment.id}/delete" not in page

    token = _token(rita, story)
    for action, data in (("edit", {"body": "Changed"}), ("delete", {})):
        response = rita.post(f"/comments/{comment.id}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 400
        assert "ten minutes" in response.get_data(as_text=True)
    fresh = _fresh(comment)
    assert fresh.body == "Settled words" and fresh.status == CommentStatus.APPROVED


def test_others_cannot_change_a_comment(app, desk):
    comment = _trusted(desk["rita"], desk["story"])
    sam = _as(app, "sam")
    token = _token(sam, desk["story"])
    edit = sam.post(f"/comments/{comment.id}/edit", data={"csrf_token": token, "body": "Mine"})
    assert edit.status_code == 403
    assert sam.post(f"/comments/{comment.id}/delete", data={"csrf_token": token}).status_code == 403
    # A comment they cannot see is not there at all.
    held = comment_service.add_comment(desk["sam"], desk["story"], "Held")
    rita = _as(app, "rita")
    token = _token(rita, desk["story"])
    assert rita.post(f"/comments/{held.id}/delete", data={"csrf_token": token}).status_code == 404
    assert _fresh(comment).body == "A first, approved comment."


def test_an_edit_meets_the_hold_rules_again(desk):
    story = desk["story"]
    comment = _trusted(desk["rita"], story)
    comment_service.edit_comment(desk["rita"], comment, "a.example.com b.example.com c.example.com")
    assert comment.status == CommentStatus.PENDING and "links" in comment.held_reason
    comment_service.edit_comment(desk["rita"], comment, "No links now")
    assert comment.status == CommentStatus.PENDING  # still the reader's first comment
    first = comment_service.add_comment(desk["sam"], story, "Held first comment")
    comment_service.edit_comment(desk["sam"], first, "Still held")
    assert first.status == CommentStatus.PENDING


def test_trashed_or_spam_comments_cannot_be_changed(desk):
    comment = _trusted(desk["rita"], desk["story"])
    comment_service.moderate(desk["root"], comment, "spam")
    with pytest.raises(NotFound):
        comment_service.edit_comment(desk["rita"], comment, "Let me back in")
    with pytest.raises(NotFound):
        comment_service.delete_comment(desk["rita"], comment)


# -- What readers see ---------------------------------------------------------------------


def test_a_suspended_persons_comments_leave_the_page(client, desk):
    story = desk["story"]
    top = _trusted(desk["sam"], story)
    comment_service.add_comment(desk["sam"], story, "Sam says more")
    _trusted(desk["rita"], story)
    comment_service.add_comment(desk["rita"], story, "Rita replies", parent_id=top.id)
    page = client.get(_url(story)).get_data(as_text=True)
    assert "Sam says more" in page and "Rita replies" in page
    assert comment_service.comment_count(story) == 4

    desk["sam"].suspended_at = utcnow()
    db.session.commit()
    page = client.get(_url(story)).get_data(as_text=True)
    assert "Sam says more" not in page
    assert "Rita replies" not in page  # its conversation is gone with it
    assert "A first, approved comment." in page  # Rita's own comment stays
    assert comment_service.comment_count(story) == 1
    assert len(comment_service.public_comments(story)) == 1


def test_public_comments_oldest_first_with_replies(desk):
    story = desk["story"]
    first = _trusted(desk["sam"], story)
    _trusted(desk["rita"], story)
    comment_service.add_comment(desk["rita"], story, "Reply", parent_id=first.id)
    held = comment_service.add_comment(desk["hedda"], story, "Editor note")
    comment_service.moderate(desk["hedda"], held, "trash")
    shown = comment_service.public_comments(story)
    assert [c.id for c in shown] == sorted(c.id for c in shown)
    assert [r.body for r in shown[0].replies] == ["Reply"]
    assert all(c.parent_id is None for c in shown)


def _fill_comments(story, people, n):
    """Add n approved comments, every third one a reply."""
    top = None
    for i in range(n):
        author = people[i % len(people)]
        parent = top.id if top is not None and i % 3 == 2 else None
        comment = comment_service.add_comment(author, story, f"Comment {i}", parent_id=parent)
        if comment.status != CommentStatus.APPROVED:
            comment_service.moderate(people[-1], comment, "approve")
        if parent is None:
            top = comment


def _cold_and_warm(client, url):
    """Query counts for the first request after a change, and for the next one."""
    with count_queries() as cold:
        assert client.get(url).status_code == 200
    with count_queries() as warm:
        assert client.get(url).status_code == 200
    return len(cold), len(warm)


def test_article_query_count_does_not_grow_with_comments(app, client, desk):
    story = desk["story"]
    people = [desk["rita"], desk["sam"], desk["root"]]
    client.get(_url(story))  # settings and menus cached: a comment does not purge them
    _fill_comments(story, people, 2)
    few = _cold_and_warm(client, _url(story))
    _fill_comments(story, people, 28)
    many = _cold_and_warm(client, _url(story))
    assert few == many, (few, many)
    page = client.get(_url(story)).get_data(as_text=True)
    assert page.count('class="comment"') == 30
    # Warm, the comments come from the cache: the page runs no more queries than before.
    assert many[1] <= 6

    rita = _as(app, "rita")  # signed in: her own held comments, and the forms
    comment_service.add_comment(desk["sam"], story, "one more")  # its thread is purged
    signed_few = _cold_and_warm(rita, _url(story))
    _fill_comments(story, people, 10)
    assert _cold_and_warm(rita, _url(story)) == signed_few


def test_ids_are_unique_on_a_busy_article_page(app, desk):
    story = desk["story"]
    _fill_comments(story, [desk["sam"], desk["root"]], 6)
    _trusted(desk["rita"], story)
    comment_service.add_comment(desk["rita"], story, "Mine, editable")
    page = _as(app, "rita").get(_url(story)).get_data(as_text=True)

    class Ids(HTMLParser):
        """Collects every id on the page."""

        def __init__(self):
            """Start with no ids seen."""
            super().__init__()
            self.ids: list[str] = []

        def handle_starttag(self, tag, attrs):
            """Note the element's id, if any."""
            self.ids += [value for name, value in attrs if name == "id"]

    parser = Ids()
    parser.feed(page)
    duplicates = {i for i in parser.ids if parser.ids.count(i) > 1}
    assert not duplicates
    for target in re.findall(r'<label for="([^"]+)"', page):
        assert target in parser.ids, target


# -- Moderation ---------------------------------------------------------------------------


def _held(desk):
    """One held comment on the Health story and one on the Fashion story."""
    health = comment_service.add_comment(desk["rita"], desk["story"], "Held in Health")
    fashion = comment_service.add_comment(desk["sam"], desk["style"], "Held in Fashion")
    assert health.status == fashion.status == CommentStatus.PENDING
    return health, fashion


def test_section_editors_moderate_their_own_sections(desk):
    health, fashion = _held(desk)
    with pytest.raises(Forbidden):
        comment_service.moderate(desk["fay"], health, "approve")
    assert health.status == CommentStatus.PENDING
    comment_service.moderate(desk["hedda"], health, "approve")
    assert health.status == CommentStatus.APPROVED
    comment_service.moderate(desk["root"], fashion, "approve")
    assert fashion.status == CommentStatus.APPROVED
    with pytest.raises(Forbidden):
        comment_service.moderate(desk["rita"], health, "trash")
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("comment.approve") == 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.actor_name == "hedda"))
    assert entry.action == "comment.approve" and entry.category_id == desk["health"].id


def test_spam_trash_and_restore(desk):
    health, _ = _held(desk)
    comment_service.moderate(desk["hedda"], health, "spam")
    assert health.status == CommentStatus.SPAM
    comment_service.moderate(desk["hedda"], health, "restore")
    assert health.status == CommentStatus.PENDING
    comment_service.moderate(desk["hedda"], health, "trash")
    assert health.status == CommentStatus.TRASH
    with pytest.raises(ServiceError):
        comment_service.moderate(desk["hedda"], health, "bless")
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["comment.spam", "comment.restore", "comment.trash"]


def test_held_queues_and_counts_are_scoped_to_sections(make, desk):
    health, fashion = _held(desk)
    roaming = make.user("editor", username="roaming")  # no sections: all of them

    def queue(viewer):
        """The held comments viewer sees."""
        return set(comment_service.held_comments_for(viewer))

    assert queue(desk["hedda"]) == {health}
    assert queue(desk["fay"]) == {fashion}
    assert queue(desk["root"]) == queue(roaming) == {health, fashion}
    assert comment_service.pending_count_for(desk["hedda"]) == 1
    assert comment_service.pending_count_for(desk["root"]) == 2
    assert comment_service.pending_count_for(desk["rita"]) == 0
    with pytest.raises(Forbidden):
        comment_service.held_comments_for(desk["rita"])
    comment_service.moderate(desk["root"], fashion, "spam")
    spam = comment_service.held_comments_for(desk["fay"], status=CommentStatus.SPAM)
    assert spam == [fashion]


def test_bulk_moderation(desk):
    health, fashion = _held(desk)
    more = comment_service.add_comment(desk["sam"], desk["story"], "Also held")
    # Nothing in reach: the whole request is refused.
    with pytest.raises(Forbidden):
        comment_service.bulk_moderate(desk["fay"], [health.id, more.id], "approve")
    db.session.expire_all()
    assert {c.status for c in db.session.scalars(select(Comment))} == {"pending"}
    # Some in reach: those change, the others are refused one by one, by name.
    outcome = comment_service.bulk_moderate(desk["hedda"], [health.id, fashion.id], "approve")
    assert outcome.changed == 1
    assert outcome.refused == [
        "The comment by Sam on “Mending season”: "
        "You may not moderate comments in this section."
    ]
    assert _fresh(health).status == CommentStatus.APPROVED
    assert _fresh(fashion).status == CommentStatus.PENDING

    bulk = comment_service.bulk_moderate
    assert bulk(desk["hedda"], [health.id, str(more.id)], "spam").changed == 2
    assert bulk(desk["root"], [health.id, fashion.id], "trash").changed == 2
    assert bulk(desk["root"], [health.id], "trash").changed == 0
    assert _fresh(more).status == CommentStatus.SPAM
    with pytest.raises(ServiceError):
        comment_service.bulk_moderate(desk["root"], ["x"], "trash")
    with pytest.raises(ServiceError):
        comment_service.bulk_moderate(desk["root"], [health.id], "delete")


# -- Valid HTML ----------------------------------------------------------------------------


def test_article_pages_with_comments_are_valid_html(app, client, desk, tmp_path):
    """The Nu HTML Checker finds no error on articles with comments, forms and errors."""
    from .test_html_valid import html_errors

    story = desk["story"]
    _fill_comments(story, [desk["sam"], desk["root"]], 5)
    _trusted(desk["rita"], story)
    comment_service.add_comment(desk["rita"], story, "Mine, still editable\n\nhttps://example.org")
    comment_service.add_comment(desk["rita"], desk["style"], "Held <b>elsewhere</b>")
    rita = _as(app, "rita")
    pages = {
        "guest": client.get(_url(story)).get_data(as_text=True),
        "reader": rita.get(_url(story)).get_data(as_text=True),
        "reader-held": rita.get(_url(desk["style"])).get_data(as_text=True),
        "errors": _post_comment(rita, story, "").get_data(as_text=True),
        "report-errors": rita.post(
            f"{_url(story)}/report", data={"csrf_token": _token(rita, story), "reason": "x"}
        ).get_data(as_text=True),
    }
    assert 'aria-invalid="true"' in pages["errors"] + pages["report-errors"]
    errors = html_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)
