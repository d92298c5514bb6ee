"""The job queue: jobs leave with their transaction, retry with backoff, fail into a list
admins can retry from; a real worker process runs them; mail goes to a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from blog import queue
from blog.extensions import db
from blog.models import Job, JobStatus, utcnow
from blog.services import jobs, unit_of_work
from blog.services import mail as mail_service

from .conftest import csrf_from
from .workers import start_worker, stop_worker, wait_until

# Jobs of this test module: declared at import, before the test app is built.
DONE: list[str] = []
FAIL_TIMES = {"left": 0}


@jobs.job("test.note", retries=0)
def note_job(word: str) -> None:
    """Write down word (the job the tests watch run)."""
    DONE.append(word)


@jobs.job("test.flaky", retries=3, delay=10, backoff=2.0)
def flaky_job(word: str) -> None:
    """Fail while FAIL_TIMES says so, then write down word."""
    if FAIL_TIMES["left"] > 0:
        FAIL_TIMES["left"] -= 1
        raise RuntimeError("the receiving end said no")
    DONE.append(word)


@pytest.fixture(autouse=True)
def _fresh_notes():
    DONE.clear()
    FAIL_TIMES["left"] = 0
    yield


def _row(job_id: str) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_a_job_leaves_only_when_its_change_commits(app, run_jobs):
    with pytest.raises(RuntimeError), unit_of_work():
        jobs.enqueue("test.note", word="rolled back")
        raise RuntimeError("the use case failed")
    assert db.session.scalar(select(Job)) is None
    assert run_jobs() == 0 and DONE == []

    with unit_of_work():
        row = jobs.enqueue("test.note", word="kept")
    assert run_jobs() == 1
    assert DONE == ["kept"]
    assert _row(row.id).status == JobStatus.DONE and _row(row.id).attempts == 1


def test_a_failing_job_is_retried_later_each_time_then_listed_as_failed(app, run_jobs):
    FAIL_TIMES["left"] = 99
    with unit_of_work():
        row = jobs.enqueue("test.flaky", word="never")
    huey = queue.huey_of(app)
    waits = []
    for _ in range(3):
        later = utcnow().replace(tzinfo=None) + timedelta(days=1)
        task = huey.dequeue() or huey.read_schedule(later)[0]
        before = utcnow().replace(tzinfo=None)
        huey.execute(task, timestamp=before + timedelta(days=1))
        (retry,) = huey.scheduled()
        waits.append((retry.eta - before).total_seconds())
        assert _row(row.id).status == JobStatus.RETRYING
    assert 9 <= waits[0] <= 11 and 19 <= waits[1] <= 21 and 39 <= waits[2] <= 41  # 10, 20, 40 s
    run_jobs()  # the last try
    failed = _row(row.id)
    assert failed.status == JobStatus.FAILED and failed.attempts == 4
    assert "RuntimeError: the receiving end said no" in failed.last_error
    assert DONE == []


def test_an_admin_sees_the_failed_job_and_sends_it_back(app, client, auth, make, run_jobs):
    FAIL_TIMES["left"] = 4
    with unit_of_work():
        row = jobs.enqueue("test.flaky", word="at last")
    run_jobs()
    assert _row(row.id).status == JobStatus.FAILED
    make.user("admin", username="boss")
    make.user("editor", username="eddie")
    auth.login("eddie")
    assert client.get("/admin/jobs").status_code == 403
    auth.logout()
    auth.login("boss")
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "test.flaky" in page and "the receiving end said no" in page and "Retry" in page
    response = client.post(
        f"/admin/jobs/{row.id}/retry", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert "is back in the queue" in response.get_data(as_text=True)
    assert _row(row.id).status == JobStatus.QUEUED
    assert run_jobs() == 1
    assert DONE == ["at last"] and _row(row.id).status == JobStatus.DONE
    # A job that did not fail cannot be sent again.
    again = client.post(
        f"/admin/jobs/{row.id}/retry",
        data={"csrf_token": csrf_from(client.get("/admin/jobs").get_data(as_text=True))},
        follow_redirects=True,
    )
    assert "Only a failed job can be retried" in again.get_data(as_text=True)


def test_retry_without_a_token_is_refused(app, client, auth, make):
    make.user("admin", username="boss")
    auth.login("boss")
    assert client.post("/admin/jobs/abc/retry").status_code == 400


def test_a_job_whose_worker_died_is_handed_back_to_the_queue(app, run_jobs):
    with unit_of_work():
        row = jobs.enqueue("test.note", word="again")
    queue.empty(app)  # the worker took it off the queue, then was killed
    db.session.execute(
        update(Job)
        .where(Job.id == row.id)
        .values(status=JobStatus.RUNNING, updated_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    assert run_jobs() == 0
    queue.run_periodic(app, "jobs.recover")
    assert run_jobs() == 1 and DONE == ["again"]


def test_a_job_the_queue_never_got_is_handed_over_later_and_runs_once(
    app, run_jobs, monkeypatch
):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(queue, "push", unreachable)
    with unit_of_work():  # the use case still commits: the queue is told after
        row = jobs.enqueue("test.note", word="late but once")
    monkeypatch.undo()
    assert _row(row.id).status == JobStatus.QUEUED and run_jobs() == 0
    queue.run_periodic(app, "jobs.recover")
    assert run_jobs() == 0  # a fresh one may just be waiting its turn: left alone
    db.session.execute(
        update(Job).where(Job.id == row.id).values(updated_at=utcnow() - timedelta(minutes=20))
    )
    db.session.commit()
    queue.run_periodic(app, "jobs.recover")
    queue.push(row.id, "test.note", app)  # and handed over twice besides
    assert run_jobs() == 2
    assert DONE == ["late but once"]
    assert _row(row.id).status == JobStatus.DONE and _row(row.id).attempts == 1


def test_flask_worker_once_runs_what_waits(app, runner):
    with unit_of_work():
        jobs.enqueue("test.note", word="from the command")
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Ran 1 queued job." in result.output
    assert DONE == ["from the command"]


def test_a_worker_process_runs_a_published_posts_clock_and_the_queue(app, make):
    """A real consumer in its own process: it publishes a due post on start, then runs the
    job that publishing enqueued (the author's notice), and is stopped once idle."""
    author = make.user("author")
    post = make.post(
        author=author, status="scheduled", published_at=utcnow() - timedelta(minutes=1)
    )
    worker = start_worker(app)
    try:
        def published() -> bool:
            db.session.expire_all()
            if db.session.get(type(post), post.id).status != "published":
                return False
            statuses = db.session.scalars(select(Job.status)).all()
            return bool(statuses) and all(status == JobStatus.DONE for status in statuses)

        assert wait_until(published, timeout=30)
    finally:
        log = stop_worker(worker)
    assert "Traceback" not in log, log


def test_mail_reaches_a_real_smtp_server_and_a_refused_decision_sends_nothing(app, smtp):
    with app.test_request_context():
        mail_service.send_mail("someone@example.com", "Hello", "A plain line.")
        message = mail_service.compose(
            "other@example.com", "Two parts", "reset_password",
            link="https://example.com/reset/x", name="Other",
        )
        with mail_service.Postman() as postman:
            assert postman.deliver(message, decide=lambda: False) is False
            message.replace_header("Message-ID", "<second@localhost>")
            assert postman.deliver(message, decide=lambda: True) is True
    assert [m.recipients for m in smtp.received] == [["someone@example.com"], ["other@example.com"]]
    assert smtp.received[0].text.strip() == "A plain line."
    assert "https://example.com/reset/x" in smtp.received[1].text
    assert 'href="https://example.com/reset/x"' in smtp.received[1].html


def test_a_refused_recipient_is_a_hard_bounce(app, smtp):
    smtp.keeper.refuse.add("gone@example.com")
    with app.test_request_context(), pytest.raises(mail_service.MailRefused) as refused:
        mail_service.send_mail("gone@example.com", "Hello", "Anyone?")
    assert refused.value.code == 550 and smtp.received == []
