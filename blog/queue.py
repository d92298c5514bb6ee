"""The job queue under the app: Huey, on SQLite storage or on Redis.

Huey carries job ids from the web processes to the workers (`flask worker`). Its
storage is a SQLite file in instance/ (JOBS_SQLITE_PATH) when there is no Redis, so
`make run` needs no extra service; with REDIS_URL it lives in Redis, shared by workers
on many machines. What each job is, and its record, live in services/jobs.py.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from sqlalchemy import event

from .extensions import db
from .services import jobs

EXTENSION = "circle_queue"


def init_app(app: Flask) -> None:
    """Give app a queue, built on first use (an app that never queues opens no storage)."""
    app.extensions[EXTENSION] = {"lock": threading.Lock()}
    _install_commit_hooks()


def _queue(app: Flask) -> dict:
    """app's Huey instance and its tasks, built once: every job the services declared."""
    found = app.extensions[EXTENSION]
    if "huey" not in found:
        with found["lock"]:
            if "huey" not in found:
                huey = _storage(app)
                tasks = {kind.name: _task(huey, app, kind) for kind in jobs.JOBS.values()}
                for kind in jobs.PERIODIC.values():
                    _periodic(huey, app, kind)
                found["tasks"] = tasks
                found["huey"] = huey
    return found


def _storage(app: Flask):
    """Huey on Redis when REDIS_URL is set, else on the SQLite file JOBS_SQLITE_PATH."""
    name = app.config["JOBS_QUEUE_NAME"]
    if app.config.get("REDIS_URL"):
        return RedisHuey(name, url=app.config["REDIS_URL"], results=False, utc=True)
    return SqliteHuey(
        name, filename=app.config["JOBS_SQLITE_PATH"], results=False, utc=True, timeout=10
    )


def _task(huey, app: Flask, kind: jobs.JobKind):
    """The Huey task that runs one kind of job in an app context."""

    def run_job(job_id: str, task=None) -> None:
        with app.app_context():
            try:
                jobs.run(job_id, task.retries if task is not None else 0)
            finally:
                db.session.remove()

    return huey.task(
        retries=kind.retries,
        retry_delay=kind.delay,
        retry_backoff=kind.backoff,
        context=True,
        name=kind.name,
    )(run_job)


def _periodic(huey, app: Flask, kind: jobs.PeriodicKind):
    """The Huey periodic task that runs kind on its schedule (a failure is logged, raised)."""
    return huey.periodic_task(crontab(**kind.schedule), name=kind.name)(
        lambda: _run_now(app, kind, reraise=True)
    )


def huey_of(app: Flask | None = None):
    """The Huey instance of app (or of the current app)."""
    return _queue(app or current_app)["huey"]


def push(job_id: str, name: str, app: Flask | None = None) -> None:
    """Tell the queue about a job whose row is committed."""
    _queue(app or current_app)["tasks"][name](job_id)


def _after_commit(session) -> None:
    """Hand the jobs of the transaction that just committed to the queue."""
    pending = jobs.take_pending(session)
    for job_id, name in pending:
        try:
            push(job_id, name)
        except Exception:  # the row stays "queued": `jobs.recover` or an admin sends it again
            current_app.logger.exception("could not hand job %s (%s) to the queue", name, job_id)


def _install_commit_hooks() -> None:
    """Listen to the app's session once."""
    for name, handler in (("after_commit", _after_commit), ("after_soft_rollback", _roll)):
        if not event.contains(db.session, name, handler):
            event.listen(db.session, name, handler)


def _roll(session, previous_transaction) -> None:
    """Forget the jobs of a transaction that rolled back."""
    if previous_transaction.parent is None:  # the outermost: the jobs were never written
        jobs.forget_pending(session)


def run_worker(app: Flask, workers: int = 2) -> None:
    """Run a consumer until stopped (SIGINT: finish running jobs; SIGTERM: stop now)."""
    huey = huey_of(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for kind in jobs.PERIODIC.values():
        if kind.at_start:
            _run_now(app, kind)
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()


def _run_now(app: Flask, kind: jobs.PeriodicKind, reraise: bool = False) -> None:
    """Run a periodic job once, now, in an app context; log (and with reraise, raise) a failure.

    A worker starting runs the at_start ones so it catches up on what a dead one left.
    """
    with app.app_context():
        try:
            kind.run()
        except Exception:
            db.session.rollback()
            app.logger.exception("periodic job %s failed", kind.name)
            if reraise:
                raise
        finally:
            db.session.remove()


def run_queued(app: Flask, *, scheduled: bool = True, limit: int = 10_000) -> int:
    """Run what is in the queue here and now, retries included; return how many ran.

    For tests and `flask worker --once`: the same queue storage, the same task code,
    without a consumer process. Scheduled retries are taken as if their time had come.
    """
    huey = huey_of(app)
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=3650)
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        when = None
        if task is None and scheduled:
            due = huey.read_schedule(later)
            if not due:
                break
            task, rest = due[0], due[1:]
            for other in rest:
                huey.add_schedule(other)
            when = later
        if task is None:
            break
        with contextlib.suppress(Exception):  # a failure is recorded; its retry is scheduled
            huey.execute(task, timestamp=when)
        ran += 1
    return ran


def run_periodic(app: Flask, name: str) -> None:
    """Run one periodic job now (tests and `flask worker --once`)."""
    _run_now(app, jobs.PERIODIC[name])


def empty(app: Flask) -> None:
    """Drop everything waiting in the queue (tests start each from nothing)."""
    huey_of(app).flush()
