"""Reports: readers flag a post or a comment; section moderators resolve them."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import AuditEntry, CommentStatus, PostStatus, Report, ReportStatus
from blog.services import Forbidden, NotFound, ServiceError
from blog.services import comments as comment_service
from blog.services import reports as report_service

from .conftest import csrf_from
from .test_comments import _as, _token, _trusted, _url, make_desk


@pytest.fixture
def desk(make):
    """Health and Fashion, a story in each and a draft, readers, section editors and an admin."""
    return make_desk(make)


@pytest.fixture(autouse=True)
def _fresh_settings(app):
    """Settings read straight from the database in each test (the test's g outlives it)."""
    g.pop("circle_settings", None)
    yield
    g.pop("circle_settings", None)


def _count() -> int:
    """How many reports exist."""
    return db.session.scalar(select(func.count()).select_from(Report))


def _actions() -> list[str]:
    """The audit log's actions, oldest first."""
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _fresh(report) -> Report:
    """The report as the database has it now."""
    db.session.expire_all()
    return db.session.get(Report, report.id)


# -- Reporting ---------------------------------------------------------------------------


def test_a_reader_reports_a_post(app, desk):
    rita = _as(app, "rita")
    story = desk["story"]
    response = rita.post(
        f"{_url(story)}/report",
        data={"csrf_token": _token(rita, story), "reason": "The dosage advice looks wrong."},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{_url(story)}#comments"
    page = rita.get(response.headers["Location"]).get_data(as_text=True)
    assert "A moderator will look at your report." in page
    report = db.session.scalar(select(Report))
    assert report.post_id == story.id and report.comment_id is None
    assert report.reporter.username == "rita" and report.status == ReportStatus.OPEN
    assert report.reason == "The dosage advice looks wrong."
    assert _actions() == []  # reporting is not a moderation action


def test_a_reader_reports_a_comment(app, desk):
    comment = _trusted(desk["sam"], desk["story"])
    rita = _as(app, "rita")
    page = rita.get(_url(desk["story"])).get_data(as_text=True)
    assert f"/comments/{comment.id}/report" in page
    response = rita.post(
        f"/comments/{comment.id}/report",
        data={"csrf_token": csrf_from(page), "reason": "Rude to other readers"},
    )
    assert response.status_code == 302
    report = db.session.scalar(select(Report))
    assert report.comment_id == comment.id and report.post_id is None


def test_a_second_report_of_the_same_thing_is_the_first(desk):
    story, rita = desk["story"], desk["rita"]
    first = report_service.report(rita, "Looks like an advert", post=story)
    again = report_service.report(rita, "Really, an advert", post=story)
    assert again.id == first.id and _count() == 1
    other = report_service.report(desk["sam"], "Advert", post=story)
    assert other.id != first.id and _count() == 2


@pytest.mark.parametrize(
    "reason,status",
    [("", 400), ("ok", 400), ("x" * 2001, 400), ("   \n ", 400), ("Off topic", 302)],
)
def test_reasons_must_say_something(app, desk, reason, status):
    rita = _as(app, "rita")
    story = desk["story"]
    response = rita.post(
        f"{_url(story)}/report", data={"csrf_token": _token(rita, story), "reason": reason}
    )
    assert response.status_code == status
    if status == 400:
        page = response.get_data(as_text=True)
        assert "Tell the moderators what is wrong" in page
        assert 'id="report-post-reason-error"' in page
        assert _count() == 0
    else:
        assert _count() == 1


def test_only_what_readers_can_see_can_be_reported(app, desk):
    with pytest.raises(NotFound):
        report_service.report(desk["rita"], "Hidden draft", post=desk["draft"])
    held = comment_service.add_comment(desk["sam"], desk["story"], "Waiting")
    assert held.status == CommentStatus.PENDING
    with pytest.raises(NotFound):
        report_service.report(desk["rita"], "Not shown yet", comment=held)
    rita = _as(app, "rita")
    token = _token(rita, desk["story"])
    data = {"csrf_token": token, "reason": "Should not work"}
    assert rita.post(f"/comments/{held.id}/report", data=data).status_code == 404
    assert rita.post(f"/health/{desk['draft'].slug}/report", data=data).status_code == 404
    assert rita.post("/comments/999999/report", data=data).status_code == 404
    with pytest.raises(ServiceError):
        report_service.report(desk["rita"], "Both", post=desk["story"], comment=held)
    assert _count() == 0


def test_guests_are_sent_to_sign_in_to_report(client, desk):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        f"{_url(desk['story'])}/report", data={"csrf_token": token, "reason": "Spam"}
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Report this article" not in client.get(_url(desk["story"])).get_data(as_text=True)
    assert _count() == 0


# -- The queue ---------------------------------------------------------------------------


@pytest.fixture
def reports(desk):
    """Open reports: on the Health story, on a Health comment, on the Fashion story."""
    health_comment = _trusted(desk["sam"], desk["story"])
    return {
        "health_post": report_service.report(desk["rita"], "Wrong facts", post=desk["story"]),
        "health_comment": report_service.report(
            desk["rita"], "Rude comment", comment=health_comment
        ),
        "fashion_post": report_service.report(desk["rita"], "Copied", post=desk["style"]),
    }


def test_open_reports_are_scoped_to_sections(make, desk, reports):
    roaming = make.user("editor", username="roaming")

    def queue(viewer):
        """The ids of the open reports viewer sees."""
        return {r.id for r in report_service.open_reports_for(viewer)}

    health = {reports["health_post"].id, reports["health_comment"].id}
    everything = health | {reports["fashion_post"].id}
    assert queue(desk["hedda"]) == health
    assert queue(desk["fay"]) == {reports["fashion_post"].id}
    assert queue(desk["root"]) == queue(roaming) == everything
    assert report_service.open_count_for(desk["hedda"]) == 2
    assert report_service.open_count_for(desk["root"]) == 3
    assert report_service.open_count_for(desk["rita"]) == 0
    with pytest.raises(Forbidden):
        report_service.open_reports_for(desk["rita"])


def test_dismissing_a_report(desk, reports):
    report = reports["health_post"]
    report_service.resolve(desk["hedda"], report, "dismiss", "Facts checked with the author.")
    report = _fresh(report)
    assert report.status == ReportStatus.RESOLVED
    assert report.resolution == "Dismissed: Facts checked with the author."
    assert report.resolved_by.username == "hedda" and report.resolved_at is not None
    assert _fresh(report).post.status == PostStatus.PUBLISHED
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.resolve"))
    assert entry.actor_name == "hedda" and entry.target_id == report.id
    assert entry.category_id == desk["health"].id
    assert report_service.open_count_for(desk["hedda"]) == 1


def test_trashing_a_reported_comment(desk, reports):
    report = reports["health_comment"]
    second = report_service.report(desk["hedda"], "Agree, rude", comment=report.comment)
    report_service.resolve(desk["root"], report, "trash_comment", "")
    report = _fresh(report)
    assert report.comment.status == CommentStatus.TRASH
    assert report.resolution == "Comment moved to the trash"
    assert _fresh(second).status == ReportStatus.RESOLVED  # the same comment's other report
    assert _actions() == ["report.resolve", "report.resolve", "comment.trash"]


def test_unpublishing_a_reported_post(desk, reports):
    report = reports["health_post"]
    report_service.resolve(desk["hedda"], report, "unpublish_post", "Needs a medical review")
    report = _fresh(report)
    assert report.post.status == PostStatus.DRAFT
    assert report.status == ReportStatus.RESOLVED
    assert report.resolution == "Post unpublished: Needs a medical review"
    assert _actions() == ["report.resolve", "post.unpublish"]


def test_who_may_resolve(desk, reports):
    with pytest.raises(Forbidden):
        report_service.resolve(desk["rita"], reports["health_post"], "dismiss")
    with pytest.raises(Forbidden):
        report_service.resolve(desk["fay"], reports["health_comment"], "trash_comment")
    with pytest.raises(Forbidden):
        report_service.resolve(desk["hedda"], reports["fashion_post"], "unpublish_post")
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(Report))} == {ReportStatus.OPEN}
    assert _actions() == []


def test_refused_resolutions_change_nothing(desk, reports):
    post_report, comment_report = reports["health_post"], reports["health_comment"]
    for report, action in (
        (post_report, "trash_comment"),
        (comment_report, "unpublish_post"),
        (post_report, "ban"),
    ):
        with pytest.raises(ServiceError):
            report_service.resolve(desk["root"], report, action)
    with pytest.raises(ServiceError):
        report_service.resolve(desk["root"], post_report, "dismiss", "n" * 451)

    # The post was unpublished elsewhere: unpublishing again fails, the report stays open.
    desk["story"].status = PostStatus.DRAFT
    db.session.commit()
    with pytest.raises(ServiceError):
        report_service.resolve(desk["root"], post_report, "unpublish_post")
    assert _fresh(post_report).status == ReportStatus.OPEN
    assert _actions() == []

    report_service.resolve(desk["root"], comment_report, "dismiss")
    with pytest.raises(ServiceError):
        report_service.resolve(desk["root"], _fresh(comment_report), "dismiss")
