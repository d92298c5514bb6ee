"""Who a post is by: its author and co-authors, in byline order.

The desk calls `set_people` whenever it writes a post; the people a byline may name are
`writers()` (anyone whose role may write and who is not suspended). Choosing the author
is an editor's act, naming co-authors the author's or an editor's (permissions.py).
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select

from ..extensions import db
from ..models import Permission, Post, Role, User, post_coauthors, utcnow
from ..permissions import can_choose_author, can_set_coauthors
from . import Forbidden, ServiceError, audit, content_generation, surrogate

MAX_COAUTHORS = 10


def _writer_roles() -> list[int]:
    """The ids of the roles that may write posts."""
    return [role.id for role in db.session.scalars(select(Role)) if role.has(Permission.WRITE)]


def writers(including: int | None = None) -> list[User]:
    """The people a byline may name, by name: writers who are not suspended.

    including: a person to list whatever their state (a post's author who has since been
    suspended stays its author until someone chooses another).
    """
    eligible = User.role_id.in_(_writer_roles()) & User.suspended_at.is_(None)
    people = db.session.scalars(select(User).where(eligible | (User.id == (including or 0))))
    return sorted(people, key=lambda person: (person.name.lower(), person.id))


def _may_write(person: User | None) -> bool:
    """Whether person may be named in a byline."""
    return person is not None and person.is_active and person.role.has(Permission.WRITE)


def split_usernames(raw: str) -> list[str]:
    """Turn "ana, @ben  carl" into ["ana", "ben", "carl"] (commas or spaces separate)."""
    parts = (raw or "").replace(",", " ").split()
    return [part.removeprefix("@") for part in parts if part.removeprefix("@")]


def _coauthors_named(
    usernames: list[str], author_id: int, current: list[int], check: bool = True
) -> list[User]:
    """The co-authors for usernames, in order, without repeats or the author; refuse others.

    Someone already among the current co-authors stays, even if they may no longer write;
    check False (the magazine itself writing) takes anyone who exists.
    """
    if len(usernames) > MAX_COAUTHORS:
        raise ServiceError(f"Name {MAX_COAUTHORS} co-authors or fewer.", "coauthors")
    lowered = [name.lower() for name in usernames]
    found = {
        person.username.lower(): person
        for person in db.session.scalars(
            select(User).where(func.lower(User.username).in_(lowered or [""]))
        )
    }
    people: list[User] = []
    for name, key in zip(usernames, lowered, strict=True):
        person = found.get(key)
        if person is None:
            raise ServiceError(f"No one here has the username “{name}”.", "coauthors")
        if check and not _may_write(person) and person.id not in current:
            raise ServiceError(
                f"“{name}” cannot be named in a byline: only authors, editors and admins "
                "who are not suspended can.",
                "coauthors",
            )
        # Compared by id: UserMixin's == compares session keys, None for all but the signed-in.
        if person.id != author_id and person.id not in {p.id for p in people}:
            people.append(person)
    return people


def _chosen_author(author_id: int) -> User:
    """The person chosen as author, or ServiceError when they may not write."""
    person = db.session.get(User, author_id)
    if not _may_write(person):
        raise ServiceError(
            "Choose an author who may write: an author, editor or admin who is not suspended.",
            "author",
        )
    return person


def set_people(
    actor: User | None,
    post: Post,
    author_id: int | None,
    coauthors: list[str] | None,
    new: bool = False,
) -> None:
    """Give post the author and co-authors asked for (None: keep what it has).

    actor None is the magazine itself (an import, a backup): nothing is checked but that
    the people exist. A person's change is checked and recorded in the audit log. Runs
    inside the caller's unit of work.
    """
    current = [] if new else [person.id for person in post.coauthors]
    before = [post.author.id, *current]
    if author_id is not None and author_id != post.author.id:
        # A new post has no section id until it is written: ask of its section.
        scope = post if post.category_id is not None else post.category
        if actor is not None and not can_choose_author(actor, scope):
            raise Forbidden("Only an editor can choose who a post is by.")
        post.author = _chosen_author(author_id)
    if coauthors is not None:
        people = _coauthors_named(coauthors, post.author.id, current, check=actor is not None)
        if [person.id for person in people] != current:
            if actor is not None and not can_set_coauthors(actor, None if new else post):
                raise Forbidden("Only the post's author or an editor can change its co-authors.")
            _write_coauthors(post, people)
            current = [person.id for person in people]
    if actor is not None and [post.author.id, *current] != before:
        db.session.flush()  # a new post needs its id and section for the log
        audit.record(actor, "post.byline", post, details=f"by {post.byline}")


def _write_coauthors(post: Post, people: list[User]) -> None:
    """Replace the post's co-author rows with people, in order."""
    if post.id is None:
        db.session.add(post)
        db.session.flush()
    # The rows are written in bulk, unseen by the session hooks: the listings of the people
    # leaving and joining the byline are purged after the commit.
    old = [person.id for person in post.coauthors]
    content_generation.note(surrogate.author(i) for i in {*old, *(p.id for p in people)})
    db.session.execute(delete(post_coauthors).where(post_coauthors.c.post_id == post.id))
    if people:
        db.session.execute(
            insert(post_coauthors),
            [
                {"post_id": post.id, "user_id": person.id, "position": n}
                for n, person in enumerate(people)
            ],
        )
    # A new byline is a change to the post: its version moves (a save based on the old byline
    # is a conflict) and cached pages are built again (content_generation watches posts).
    post.updated_at = utcnow()
    # The relationship is read-only: show the rows just written.
    db.session.expire(post, ["coauthors"])
    post.coauthors  # noqa: B018 - reload now, inside the unit of work
