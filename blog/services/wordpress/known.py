"""What the site already holds of earlier imports, read once per run instead of once per item.

A big export would otherwise ask the database, for every post, comment and old
address, whether an earlier run brought it over: tens of thousands of queries
that find nothing on a first run. `load_known` reads the answers up front (ids,
notes and paths, not rows, so memory stays small), and the steps keep it up to
date as they write. Only a "no" is trusted: when the map says a row exists, the
step still loads it from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import func, select

from ...extensions import db
from ...models import Comment, Post, Redirect, Revision

M = TypeVar("M")


@dataclass
class KnownRows:
    """Ids of what earlier runs imported, and the old addresses already kept."""

    # WordPress post id → Circle post id; Circle post id → its newest import note.
    posts: dict[int, int] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    comments: set[int] = field(default_factory=set)  # WordPress comment ids
    # Normalised path → (post id, section id) it leads to.
    redirects: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    # Set once the writer changes an existing post: it may add or drop old addresses
    # of its own, so from then on each address is looked up in the database.
    posts_moved: bool = False
    # Rows used again and again (commenters, tags), held so the session keeps them.
    held: dict[tuple[type, int], object] = field(default_factory=dict)

    def may_have_redirect(self, path: str) -> bool:
        """False only when no redirect can be stored at path (normalised)."""
        return self.posts_moved or path in self.redirects

    def leads_to(self, path: str, post_id: int | None, section_id: int | None) -> bool:
        """True when the redirect at path surely leads to this post or section already."""
        if self.posts_moved or path not in self.redirects:
            return False
        kept_post, kept_section = self.redirects[path]
        return (post_id is not None and kept_post == post_id) or (
            section_id is not None and kept_section == section_id
        )

    def row(self, model: type[M], row_id: int) -> M | None:
        """The row of model with this id, loaded once per run.

        The session holds rows weakly: one nobody else refers to is loaded again on
        every get. Commenters and tags come back for post after post.
        """
        key = (model, row_id)
        if key not in self.held:
            self.held[key] = db.session.get(model, row_id)
        return self.held[key]


def load_known(note_prefix: str) -> KnownRows:
    """Read the imported posts (with their newest import note), comments and redirects."""
    known = KnownRows()
    known.posts = dict(
        db.session.execute(
            select(Post.wp_post_id, Post.id).where(Post.wp_post_id.is_not(None))
        ).all()
    )
    newest = (
        select(func.max(Revision.id))
        .where(Revision.note.startswith(note_prefix))
        .group_by(Revision.post_id)
    )
    known.notes = dict(
        db.session.execute(
            select(Revision.post_id, Revision.note).where(Revision.id.in_(newest))
        ).all()
    )
    known.comments = set(
        db.session.scalars(
            select(Comment.wp_comment_id).where(Comment.wp_comment_id.is_not(None))
        )
    )
    known.redirects = {
        path: (post_id, section_id)
        for path, post_id, section_id in db.session.execute(
            select(Redirect.path, Redirect.post_id, Redirect.category_id)
        )
    }
    return known
