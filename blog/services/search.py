"""Full-text search: SQLite FTS5 or a PostgreSQL tsvector, ranked, with snippets.

The index holds published posts only and is kept current by an ORM hook:
whatever path changes a post (desk, API, import, scheduler), the change and
its index entry are written in the same transaction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from ..extensions import db
from ..models import Category, Post, utcnow
from ..models.content import LIVE_STATUSES
from ..sanitize import plain_text

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
_TERM = re.compile(r"[^\W_]+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
_INDEXED_FIELDS = ("title", "excerpt", "body", "status")


@dataclass
class SearchHit:
    """One post found, with its highlighted snippet."""

    post: Post
    snippet: Markup


@dataclass
class SearchResults:
    """A page of results, the per-section counts and what was asked."""

    query: str
    terms: list[str]
    page: int
    per_page: int
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    facets: list[tuple[Category, int]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """The number of result pages."""
        return max(1, math.ceil(self.total / self.per_page))


def search_terms(query: str) -> list[str]:
    """Return the words of a query that search can use, whatever else it holds."""
    words: list[str] = []
    for word in _TERM.findall((query or "")[:MAX_QUERY_CHARS].lower()):
        if word not in words:
            words.append(word[:40])
    return words[:MAX_TERMS]


def _indexable_text(markup: str) -> str:
    """Plain text for the index, without the characters snippets use as marks."""
    return _CONTROL.sub(" ", plain_text(markup))


def highlight(snippet: str) -> Markup:
    """Escape a snippet, then turn its match marks into <mark> elements."""
    safe = str(escape(snippet or ""))
    return Markup(safe.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


def _is_postgres(connection) -> bool:
    return connection.dialect.name == "postgresql"


def write_index_entry(connection, post: Post) -> None:
    """Put a post into the index if it is published, else take it out."""
    key = "post_id" if _is_postgres(connection) else "rowid"
    connection.execute(text(f"DELETE FROM post_search WHERE {key} = :id"), {"id": post.id})
    if post.status not in LIVE_STATUSES:
        return
    connection.execute(
        text(f"INSERT INTO post_search ({key}, title, excerpt, body) VALUES (:id, :t, :e, :b)"),
        {
            "id": post.id,
            "t": post.title,
            "e": _CONTROL.sub(" ", post.excerpt or ""),
            "b": _indexable_text(post.body),
        },
    )


def remove_index_entry(connection, post_id: int) -> None:
    """Take a deleted post out of the index."""
    key = "post_id" if _is_postgres(connection) else "rowid"
    connection.execute(text(f"DELETE FROM post_search WHERE {key} = :id"), {"id": post_id})


def _needs_reindex(post: Post) -> bool:
    """Return True when a flushed change touches what the index holds."""
    state = inspect(post)
    if state.pending or state.was_deleted:
        return True
    return any(state.attrs[name].history.has_changes() for name in _INDEXED_FIELDS)


def _sync_index(session: Session, _flush_context) -> None:
    """After each flush, bring the index in line with the posts it touched."""
    changed = [
        obj for obj in (*session.new, *session.dirty)
        if isinstance(obj, Post) and _needs_reindex(obj)
    ]
    removed = [obj.id for obj in session.deleted if isinstance(obj, Post)]
    if not changed and not removed:
        return
    connection = session.connection()
    for post in changed:
        write_index_entry(connection, post)
    for post_id in removed:
        remove_index_entry(connection, post_id)


def install_index_hooks() -> None:
    """Keep the index in step with every flush of the app's session (once)."""
    if not event.contains(db.session, "after_flush", _sync_index):
        event.listen(db.session, "after_flush", _sync_index)


def _match_sql(connection, terms: list[str]) -> tuple[str, dict]:
    """Return the engine's match expression and its parameters."""
    if _is_postgres(connection):
        return "s.document @@ to_tsquery('english', :q)", {
            "q": " & ".join(f"{t}:*" for t in terms)
        }
    return "post_search MATCH :q", {"q": " ".join(f'"{t}"*' for t in terms)}


def _from_sql(connection) -> str:
    """The index joined to the posts readers may see."""
    if _is_postgres(connection):
        return "post_search s JOIN posts p ON p.id = s.post_id"
    return "post_search JOIN posts p ON p.id = post_search.rowid"


def _ranked_sql(connection) -> tuple[str, str]:
    """Return the rank expression and snippet expression for the engine."""
    if _is_postgres(connection):
        return (
            "ts_rank_cd(s.document, to_tsquery('english', :q))",
            "ts_headline('english', s.body, to_tsquery('english', :q), "
            "'StartSel=\x02, StopSel=\x03, MaxWords=30, MinWords=12, "
            "MaxFragments=2, FragmentDelimiter=\" … \"')",
        )
    return (
        "-bm25(post_search, 10.0, 4.0, 1.0)",
        "snippet(post_search, -1, char(2), char(3), '…', 24)",
    )


def search_posts(
    query: str, section: Category | None = None, page: int = 1, per_page: int = 10
) -> SearchResults:
    """Find published posts matching query, best first, optionally in one section."""
    terms = search_terms(query)
    results = SearchResults(query=query, terms=terms, page=page, per_page=per_page)
    if not terms:
        return results
    connection = db.session.connection()
    match, params = _match_sql(connection, terms)
    where = f"{match} AND p.status IN ('published', 'scheduled') AND p.published_at <= :now"
    params["now"] = utcnow()
    counts = connection.execute(
        text(f"SELECT p.category_id, count(*) FROM {_from_sql(connection)} "
             f"WHERE {where} GROUP BY p.category_id"),
        params,
    ).all()
    sections = {s.id: s for s in db.session.scalars(select(Category))}
    results.facets = sorted(
        ((sections[cid], n) for cid, n in counts if cid in sections),
        key=lambda item: (item[0].position, item[0].name),
    )
    if section is not None:
        where += " AND p.category_id = :section"
        params["section"] = section.id
        results.total = dict(counts).get(section.id, 0)
    else:
        results.total = sum(n for _, n in counts)
    if results.total == 0 or (page - 1) * per_page >= results.total:
        return results
    rank, snippet = _ranked_sql(connection)
    # Rank every match, but make snippets only for the page shown: they cost the most.
    page_ids = [
        row.id
        for row in connection.execute(
            text(f"SELECT p.id FROM {_from_sql(connection)} WHERE {where} "
                 f"ORDER BY {rank} DESC, p.published_at DESC, p.id DESC "
                 f"LIMIT :limit OFFSET :offset"),
            {**params, "limit": per_page, "offset": (page - 1) * per_page},
        )
    ]
    key = "s.post_id" if _is_postgres(connection) else "post_search.rowid"
    id_list = ", ".join(str(int(i)) for i in page_ids) or "0"
    snippets = dict(
        connection.execute(
            text(f"SELECT p.id, {snippet} AS snip FROM {_from_sql(connection)} "
                 f"WHERE {match} AND {key} IN ({id_list})"),
            params,
        ).all()
    )
    posts = _load_posts(page_ids)
    results.hits = [
        SearchHit(post=posts[post_id], snippet=highlight(snippets.get(post_id, "")))
        for post_id in page_ids if post_id in posts
    ]
    return results


def _load_posts(ids: Iterable[int]) -> dict[int, Post]:
    """Load the posts for a page of hits with what a result shows."""
    ids = list(ids)
    if not ids:
        return {}
    posts = db.session.scalars(
        select(Post)
        .where(Post.id.in_(ids))
        .options(
            defer(Post.body),
            joinedload(Post.author),
            joinedload(Post.category),
            selectinload(Post.tags),
        )
    ).unique()
    return {post.id: post for post in posts}


def rebuild_index(progress: Callable[[int, int], None] | None = None, batch: int = 500) -> int:
    """Rebuild the whole index from the published and scheduled posts; return how many."""
    connection = db.session.connection()
    connection.execute(text("DELETE FROM post_search"))
    ids = list(
        db.session.scalars(select(Post.id).where(Post.status.in_(LIVE_STATUSES)))
    )
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        for post in db.session.scalars(select(Post).where(Post.id.in_(chunk))):
            write_index_entry(connection, post)
        db.session.expunge_all()
        if progress:
            progress(min(start + batch, len(ids)), len(ids))
    db.session.commit()
    return len(ids)
