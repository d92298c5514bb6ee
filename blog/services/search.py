"""Full-text search: SQLite FTS5 or a PostgreSQL tsvector, ranked, with snippets.

The index holds the articles that are or will be live (published and scheduled), each
with its section and publication time (on SQLite in post_search_facts, beside the FTS5
table, so that reading them never reads the text); a search shows only those readers may
see now (Post.live_article), ranking only the CANDIDATES most recently added matches. An ORM
hook keeps it current: whatever path changes a post (desk, API, import, scheduler), the
change and its index entry are written in the same transaction.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    column,
    event,
    func,
    inspect,
    literal_column,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session, defer, joinedload, selectinload
from sqlalchemy.types import NullType

from ..extensions import db
from ..models import Category, Post, utcnow
from ..models.content import LIVE_STATUSES, PostKind
from ..models.types import UTCDateTime
from ..sanitize import plain_text
from . import reading, surrogate, unit_of_work

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
_TERM = re.compile(r"[^\W_]+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
# What the index holds of a post: a change to any of these rewrites its entry.
_INDEXED_FIELDS = (
    "title",
    "excerpt",
    "body",
    "status",
    "kind",
    "category",
    "category_id",
    "published_at",
)
# Search ranks at most this many matches, the most recently added: a word found in a
# fifth of the posts costs what a rare one does. Counts beyond it are "more than".
# Scoring is most of a common word's walk (FTS5's bm25: 2.6 ms of 4 for 1,000 rows on
# the 10,000-post bench): 300 keeps 30 pages of results for well under half of that.
CANDIDATES = 300


@dataclass
class SearchHit:
    """One post found, with its highlighted snippet (and the post, when loaded)."""

    post_id: int
    snippet: Markup
    post: Post | None = None


@dataclass
class SearchResults:
    """A page of results, the per-section counts and what was asked."""

    query: str
    terms: list[str]
    page: int
    per_page: int
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    facets: list[tuple[reading.Section, int]] = field(default_factory=list)
    # Search ranks at most `bound` matches (CANDIDATES). When more match, total is
    # bound + 1, shown as "more than 300 stories", and, when facets_bounded, each
    # section's count is that of the most recent matches: a floor, shown as "112+".
    bound: int = CANDIDATES
    facets_bounded: bool = False

    @property
    def bounded(self) -> bool:
        """True when more posts match than search ranks: total is then a floor."""
        return self.total > self.bound

    @property
    def ranked(self) -> int:
        """How many of the matches are ranked and can be paged through."""
        return min(self.total, self.bound)

    @property
    def pages(self) -> int:
        """The number of result pages."""
        return max(1, math.ceil(self.ranked / self.per_page))


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


# What the index holds of each entry: its text, and its section and date (search filters
# and counts its candidates by these). PostgreSQL keeps all of it in post_search; SQLite
# keeps the text in the FTS5 table and the rest in post_search_facts, keyed by the same id,
# because FTS5 reads a whole row, body and all, to give one column (migration 0015).
_WRITES = {
    "postgresql": (
        "INSERT INTO post_search (post_id, title, excerpt, body, category_id, published_at)"
        " VALUES (:id, :title, :excerpt, :body, :category_id, :published_at)",
    ),
    "sqlite": (
        "INSERT INTO post_search (rowid, title, excerpt, body)"
        " VALUES (:id, :title, :excerpt, :body)",
        "INSERT INTO post_search_facts (post_id, category_id, published_at)"
        " VALUES (:id, :category_id, :published_at)",
    ),
}
_TABLES = {
    "postgresql": (("post_search", "post_id"),),
    "sqlite": (("post_search", "rowid"), ("post_search_facts", "post_id")),
}


def _engine(connection) -> str:
    """The engine's name as the index's statements are keyed ("postgresql" or "sqlite")."""
    return "postgresql" if _is_postgres(connection) else "sqlite"


def index_entry(post: Post) -> dict:
    """What the index holds of a post, as write_index_entries takes it."""
    return {
        "id": post.id,
        "title": post.title,
        "excerpt": _CONTROL.sub(" ", post.excerpt or ""),
        "body": _indexable_text(post.body),
        "category_id": post.category_id,
        "published_at": post.published_at,
    }


def write_index_entries(connection, entries: list[dict]) -> None:
    """Add entries (index_entry's dicts; body already plain text) to the index, in bulk.

    The bench's builders use this too, so every path writes the index the same way.
    """
    if not entries:
        return
    for sql in _WRITES[_engine(connection)]:
        statement = text(sql)
        if ":published_at" in sql:
            statement = statement.bindparams(bindparam("published_at", type_=UTCDateTime()))
        connection.execute(statement, entries)


def remove_index_entry(connection, post_id: int) -> None:
    """Take a post out of the index (deleted, unpublished or now a page)."""
    for name, key in _TABLES[_engine(connection)]:
        connection.execute(text(f"DELETE FROM {name} WHERE {key} = :id"), {"id": post_id})


def clear_index(connection) -> None:
    """Empty the whole index (before a rebuild or a restore)."""
    for name, _column in _TABLES[_engine(connection)]:
        connection.execute(text(f"DELETE FROM {name}"))


def _indexed(post: Post) -> bool:
    """Whether the index holds the post: a live (or scheduled) article."""
    return post.status in LIVE_STATUSES and post.kind != PostKind.PAGE


def write_index_entry(connection, post: Post) -> None:
    """Put a post into the index if it is a live (or scheduled) article, else take it out."""
    remove_index_entry(connection, post.id)
    if _indexed(post):
        write_index_entries(connection, [index_entry(post)])


def reindex_posts(post_ids: Iterable[int], batch: int = 500) -> None:
    """Write these posts' entries again, in bulk (taking out those the index no longer holds)."""
    ids = sorted(post_ids)
    connection = db.session.connection()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        for name, key in _TABLES[_engine(connection)]:
            connection.execute(
                text(f"DELETE FROM {name} WHERE {key} IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": chunk},
            )
        posts = db.session.scalars(select(Post).where(Post.id.in_(chunk)))
        write_index_entries(connection, [index_entry(p) for p in posts if _indexed(p)])


@contextmanager
def index_deferred() -> Iterator[None]:
    """Index the posts a long job changes once, at its end and in bulk, not at every flush.

    Inside, each flush only notes which posts changed; on leaving without an error the
    session is flushed and their entries are written (the index ends as the hook would
    have left it). An error leaves them unwritten: the job's unit of work rolls back.
    """
    session = db.session()
    changed: set[int] = set()
    session.info[_DEFERRED] = changed
    try:
        yield
        session.flush()
    finally:
        session.info.pop(_DEFERRED, None)
    reindex_posts(changed)


_DEFERRED = "circle_search_deferred"  # session.info: ids of posts to index at the job's end


def _needs_reindex(post: Post) -> bool:
    """Return True when a flushed change touches what the index holds."""
    state = inspect(post)
    if state.pending or state.was_deleted:
        return True
    return any(state.attrs[name].history.has_changes() for name in _INDEXED_FIELDS)


def _sync_index(session: Session, _flush_context) -> None:
    """After each flush, bring the index in line with the posts it touched."""
    changed = [
        obj
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, Post) and _needs_reindex(obj)
    ]
    removed = [obj.id for obj in session.deleted if isinstance(obj, Post)]
    if not changed and not removed:
        return
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:  # written at the end of the job (index_deferred)
        deferred.update(post.id for post in changed)
        changed = []
    connection = session.connection()
    for post in changed:
        write_index_entry(connection, post)
    for post_id in removed:
        remove_index_entry(connection, post_id)


def install_index_hooks() -> None:
    """Keep the index in step with every flush of the app's session (once)."""
    if not event.contains(db.session, "after_flush", _sync_index):
        event.listen(db.session, "after_flush", _sync_index)


# The index, as the queries below name it: FTS5 keys it by rowid, PostgreSQL by post_id.
_INDEX = table(
    "post_search",
    column("rowid"),
    column("post_id"),
    column("document"),
    column("body"),
    column("category_id", Integer()),
    column("published_at", UTCDateTime()),
)
_FACTS = table(
    "post_search_facts",
    column("post_id"),
    column("category_id", Integer()),
    column("published_at", UTCDateTime()),
)
_FTS = literal_column("post_search")  # FTS5's functions take the table itself
_ENGLISH = literal_column("'english'")
_HEADLINE = (
    'StartSel=\x02, StopSel=\x03, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
)


def _key(pg: bool):
    """The index's column holding the post id."""
    return _INDEX.c.post_id if pg else _INDEX.c.rowid


def _query_text(pg: bool, terms: list[str]) -> str:
    """The engine's query for terms, bound as :query: every term, as a prefix."""
    if pg:
        return " & ".join(f"{t}:*" for t in terms)
    return " ".join(f'"{t}"*' for t in terms)


def _tsquery():
    """PostgreSQL: the bound query as a tsquery."""
    return func.to_tsquery(_ENGLISH, bindparam("query"))


def _match(pg: bool) -> ColumnElement[bool]:
    """The engine's condition: the indexed post holds every term of :query."""
    if pg:
        return _INDEX.c.document.op("@@")(_tsquery())
    return _FTS.op("MATCH")(bindparam("query"))


def _snippet(pg: bool):
    """A passage of the body with the matches between MARK_OPEN and MARK_CLOSE."""
    if pg:
        return func.ts_headline(_ENGLISH, _INDEX.c.body, _tsquery(), _HEADLINE)
    return func.snippet(_FTS, -1, func.char(2), func.char(3), "…", 24)


def _facts(pg: bool):
    """The table holding each entry's post id, section and date, and how it joins the text.

    Returns (facts, key, join): PostgreSQL's post_search holds them itself; on SQLite they
    are post_search_facts, joined to the FTS5 table by rowid.
    """
    if pg:
        return _INDEX, _INDEX.c.post_id, _INDEX
    key = _INDEX.c.rowid
    return _FACTS, key, _INDEX.join(_FACTS, _FACTS.c.post_id == key)


# The statements below are built once per engine (and section filter or not), their
# values bound at each search: building one costs more than the engine's whole answer
# for a rare word.


@cache
def _candidates_statement(pg: bool, in_section: bool):
    """Search's walk over the index, as _candidates describes it."""
    facts, key, source = _facts(pg)
    where = [_match(pg), facts.c.published_at <= bindparam("now", type_=UTCDateTime())]
    if in_section:
        where.append(facts.c.category_id == bindparam("section_id"))
    raw_date = type_coerce(facts.c.published_at, NullType()).label("published_at")
    if pg:
        # Ranked outside the bounded walk, so ts_rank_cd reads only the kept documents.
        kept = (
            select(key.label("id"), facts.c.category_id, raw_date, _INDEX.c.document)
            .where(*where)
            .order_by(key.desc())
            .limit(bindparam("bound"))
            .subquery("kept")
        )
        score = func.ts_rank_cd(kept.c.document, _tsquery())
        return select(
            kept.c.id, kept.c.category_id, kept.c.published_at, score.label("score")
        ).order_by(kept.c.id.desc())
    # FTS5's bm25 is read during the walk, for the rows it keeps only.
    score = -func.bm25(_FTS, 10.0, 4.0, 1.0)
    return (
        select(key.label("id"), facts.c.category_id, raw_date, score.label("score"))
        .select_from(source)
        .where(*where)
        .order_by(key.desc())
        .limit(bindparam("bound"))
    )


def _candidates(connection, terms: list[str], now, section_id: int | None = None) -> list:
    """Up to CANDIDATES + 1 live articles matching terms (in a section), the most recently
    added first, each as (id, category_id, published_at, score).

    Read from the index alone: its section and date filter the matches, and the engine
    walks them newest id first and stops at the bound, however common the word; the score
    is computed for those rows only. One more than the bound tells "exactly 300" from
    "more than 300". published_at comes back as the driver gives it (only compared).
    """
    pg = _is_postgres(connection)
    values = {"query": _query_text(pg, terms), "now": now, "bound": CANDIDATES + 1}
    if section_id is not None:
        values["section_id"] = section_id
    statement = _candidates_statement(pg, section_id is not None)
    return connection.execute(statement, values).all()


# The order of results: best score first, then the most recently published, then newest id.
_BEST_FIRST = itemgetter(3, 2, 0)


def search_posts(
    query: str,
    section: Category | None = None,
    page: int = 1,
    per_page: int = 10,
    with_posts: bool = True,
) -> SearchResults:
    """Find the articles readers may see (Post.live_article) matching query, best first.

    with_posts=False leaves each hit's post unloaded (the reader page takes kept cards
    by id instead); the cards then leave out any story no longer live.
    """
    terms = search_terms(query)
    results = SearchResults(
        query=query, terms=terms, page=page, per_page=per_page, bound=CANDIDATES
    )
    surrogate.show(surrogate.SEARCH)
    if not terms:
        return results
    connection = db.session.connection()
    now = utcnow()
    everywhere = _candidates(connection, terms, now)
    counts = Counter(map(itemgetter(1), everywhere))
    # The sections in navigation order, kept with the content: no query of their own.
    results.facets = [(s, counts[s.id]) for s in reading.reader_sections() if s.id in counts]
    results.facets_bounded = len(everywhere) > CANDIDATES
    shown = everywhere
    if section is not None:
        if results.facets_bounded:  # the section's own most recent matches
            shown = _candidates(connection, terms, now, section.id)
        else:  # all the matches are here already
            shown = [row for row in everywhere if row.category_id == section.id]
    results.total = len(shown)
    start = (page - 1) * per_page
    if results.ranked == 0 or start >= results.ranked:
        return results
    # Rank the candidates only, and make snippets only for the page shown: they cost the most.
    best = sorted(shown[:CANDIDATES], key=_BEST_FIRST, reverse=True)
    page_ids = [row.id for row in best[start : start + per_page]]
    snippets = _snippets(connection, terms, page_ids)
    posts = _load_posts(page_ids) if with_posts else dict.fromkeys(page_ids)
    results.hits = [
        SearchHit(post_id, highlight(snippets.get(post_id, "")), posts[post_id])
        for post_id in page_ids
        if post_id in posts
    ]
    return results


@cache
def _snippets_statement(pg: bool):
    """The snippets of a page of hits, as _snippets describes it."""
    key = _key(pg)
    ids = bindparam("ids", expanding=True)
    listed = key.in_(ids) if pg else (key + 0).in_(ids)
    return (
        select(key, _snippet(pg))
        .select_from(_INDEX)
        .where(_match(pg), key.between(bindparam("low"), bindparam("high")), listed)
    )


def _snippets(connection, terms: list[str], ids: list[int]) -> dict[int, str]:
    """The snippet of each post of a page of hits, in one pass over the index.

    The ids bound a range the engine walks once; on SQLite the list itself is checked as
    `rowid + 0`, which keeps FTS5 from looking each id up separately (every lookup expands
    a prefix term's whole list of posts again: 2 ms each for a common word).
    """
    if not ids:
        return {}
    pg = _is_postgres(connection)
    values = {"query": _query_text(pg, terms), "ids": ids, "low": min(ids), "high": max(ids)}
    return dict(connection.execute(_snippets_statement(pg), values).all())


def _load_posts(ids: Iterable[int]) -> dict[int, Post]:
    """Load the posts for a page of hits with what a result shows (readers' posts only)."""
    ids = list(ids)
    surrogate.show(surrogate.SEARCH)
    if not ids:
        return {}
    posts = db.session.scalars(
        select(Post)
        .where(Post.id.in_(ids), Post.live_article(utcnow()))
        .options(
            defer(Post.body),
            joinedload(Post.author),
            joinedload(Post.coauthors),  # a few rows more, no query more
            joinedload(Post.category),
            selectinload(Post.tags),
        )
    ).unique()
    found = {post.id: post for post in posts}
    surrogate.show_posts(found.values())
    return found


def rebuild_index(progress: Callable[[int, int], None] | None = None, batch: int = 500) -> int:
    """Rebuild the whole index from the published and scheduled articles; return how many."""
    with unit_of_work():
        connection = db.session.connection()
        clear_index(connection)
        ids = list(
            db.session.scalars(
                select(Post.id).where(Post.status.in_(LIVE_STATUSES), Post.articles())
            )
        )
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            for post in db.session.scalars(select(Post).where(Post.id.in_(chunk))):
                write_index_entry(connection, post)
            db.session.expunge_all()
            if progress:
                progress(min(start + batch, len(ids)), len(ids))
    return len(ids)
