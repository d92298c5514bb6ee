"""Work behind the page: the jobs the queue runs, and the record admins read.

A service declares a job with `@job("name")` (run by a worker, retried with backoff)
or `@periodic("name", minute="*/5")` (run by the worker's clock). `enqueue(name, **kw)`
writes a `Job` row in the caller's transaction; the queue is told only after that
transaction commits, so a worker never looks for a row that is not there yet, and a
rolled-back change sends nothing. The queue carries the row's id, nothing else: the row
says what to do, how often it was tried and the last error, and a job that keeps
failing stays in the failed list (/admin/jobs) until an admin retries it.

Jobs must be idempotent: a worker killed mid-job leaves its row "running", and the
periodic `jobs.recover` hands it to the queue again.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from ..extensions import db
from ..models import Job, JobStatus, Permission, User, utcnow
from . import Forbidden, NotFound, ServiceError, audit, unit_of_work


@dataclass(frozen=True)
class JobKind:
    """A job a worker can run: its function, and how often and how late to try again."""

    name: str
    run: Callable[..., object]
    retries: int = 5
    delay: int = 10  # seconds before the first retry; each next one waits backoff× longer
    backoff: float = 2.0


@dataclass(frozen=True)
class PeriodicKind:
    """A job the worker's clock starts (crontab fields, in UTC), and once when it starts."""

    name: str
    run: Callable[[], object]
    schedule: dict = field(default_factory=dict)
    at_start: bool = False


JOBS: dict[str, JobKind] = {}
PERIODIC: dict[str, PeriodicKind] = {}

# How long a job may sit "running" before the clock takes its worker for dead.
STALLED_AFTER = timedelta(minutes=30)
# How long a job may sit "queued" before the clock takes it for lost and hands it over again.
LOST_AFTER = timedelta(minutes=15)
# How long finished jobs stay in the record.
KEEP_DONE = timedelta(days=7)
_PENDING = "circle_jobs_pending"


def job(name: str, *, retries: int = 5, delay: int = 10, backoff: float = 2.0):
    """Declare fn as the job called name (keyword arguments, JSON values only)."""

    def declare(fn):
        JOBS[name] = JobKind(name, fn, retries, delay, backoff)
        return fn

    return declare


def periodic(name: str, *, at_start: bool = False, **schedule: str):
    """Declare fn as a job the worker runs on a crontab schedule (minute="*/5", hour="7")."""

    def declare(fn):
        PERIODIC[name] = PeriodicKind(name, fn, schedule, at_start)
        return fn

    return declare


def enqueue(name: str, **arguments) -> Job:
    """Hand a job to the queue once the current transaction commits; return its row."""
    if name not in JOBS:
        raise KeyError(f"no job called {name!r}")
    row = Job(name=name, arguments=arguments, status=JobStatus.QUEUED, attempts=0, last_error="")
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append((row.id, name))
    return row


def take_pending(session) -> list[tuple[str, str]]:
    """The jobs enqueued in session's transaction that just committed (cleared as read)."""
    return session.info.pop(_PENDING, [])


def forget_pending(session) -> None:
    """session's transaction rolled back: the jobs it enqueued were never written."""
    session.info.pop(_PENDING, None)


def run(job_id: str, retries_left: int) -> None:
    """Run the job with this id (the worker calls this); raise to have the queue retry it."""
    row = db.session.get(Job, job_id)
    if row is None:
        return  # removed meanwhile
    kind = JOBS.get(row.name)
    if kind is None:
        _finish(row, JobStatus.FAILED, f"No job called {row.name!r} is known to this worker.")
        return
    # Claim it: of two deliveries of one id (a job handed over again), one runs.
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_((JobStatus.QUEUED, JobStatus.RETRYING)))
        .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return  # done, failed, or running elsewhere
    row = db.session.get(Job, job_id, populate_existing=True)
    arguments = dict(row.arguments or {})
    try:
        kind.run(**arguments)
    except Exception as exc:
        db.session.rollback()
        row = db.session.get(Job, job_id)
        status = JobStatus.RETRYING if retries_left > 0 else JobStatus.FAILED
        _finish(row, status, _describe(exc))
        current_app.logger.warning("job %s (%s) failed: %s", row.name, job_id, exc)
        raise
    db.session.rollback()  # the job committed what it meant to; drop anything it left
    row = db.session.get(Job, job_id)
    _finish(row, JobStatus.DONE, row.last_error if row.attempts > 1 else "")


def _finish(row: Job, status: str, error: str) -> None:
    """Write a job's outcome."""
    row.status = status
    row.last_error = error
    if status in (JobStatus.DONE, JobStatus.FAILED):
        row.finished_at = utcnow()
    db.session.commit()


def _describe(exc: BaseException) -> str:
    """A failure in a line or two an admin can read, with the place it happened."""
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    place = f" (at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno})" if where else ""
    return f"{type(exc).__name__}: {exc}{place}"[:2000]


def _require_admin(actor: User) -> None:
    """Only admins see and retry the queue's work."""
    if not actor.can(Permission.ADMINISTER):
        raise Forbidden("Only admins may manage background jobs.")


def listing(actor: User, status: str | None = None, limit: int = 100) -> list[Job]:
    """The jobs an admin sees: failed ones first, newest first, or one status."""
    _require_admin(actor)
    query = select(Job).order_by(Job.updated_at.desc()).limit(limit)
    if status:
        query = query.where(Job.status == status)
    return list(db.session.scalars(query))


def counts(actor: User) -> dict[str, int]:
    """How many jobs there are in each status."""
    _require_admin(actor)
    rows = db.session.execute(select(Job.status, func.count()).group_by(Job.status))
    found = {status: number for status, number in rows}
    return {status.value: found.get(status.value, 0) for status in JobStatus}


@unit_of_work()
def retry(actor: User, job_id: str) -> Job:
    """Send a failed job back to the queue (an admin's button)."""
    _require_admin(actor)
    row = db.session.get(Job, job_id)
    if row is None:
        raise NotFound("That job is no longer in the record.")
    if row.status != JobStatus.FAILED:
        raise ServiceError("Only a failed job can be retried.")
    row.status = JobStatus.QUEUED
    row.finished_at = None
    db.session.info.setdefault(_PENDING, []).append((row.id, row.name))
    audit.record(actor, "job.retry", None, details=f"{row.name} ({row.id})")
    return row


@periodic("jobs.recover", minute="*/5", at_start=True)
def recover() -> int:
    """Hand back to the queue the jobs it lost, and forget old finished ones.

    A job "running" for over STALLED_AFTER lost its worker; one still "queued" after
    LOST_AFTER was never handed over (the queue could not be reached at its commit) or
    was lost with its storage. Handing one over twice is harmless: `run` claims it first.
    """
    now = utcnow()
    with unit_of_work():
        lost = list(
            db.session.scalars(
                select(Job).where(
                    or_(
                        and_(Job.status == JobStatus.RUNNING, Job.updated_at < now - STALLED_AFTER),
                        and_(Job.status == JobStatus.QUEUED, Job.updated_at < now - LOST_AFTER),
                    )
                )
            )
        )
        for row in lost:
            row.status = JobStatus.QUEUED
            row.updated_at = now
            db.session.info.setdefault(_PENDING, []).append((row.id, row.name))
        db.session.execute(
            delete(Job).where(Job.status == JobStatus.DONE, Job.finished_at < now - KEEP_DONE)
        )
    return len(lost)
