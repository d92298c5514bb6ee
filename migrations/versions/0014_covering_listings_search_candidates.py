"""covering live listing indexes; section and date in the search index

The two live listing indexes (ix_posts_live_listing, ix_posts_live_section_listing) also
carry status and kind (and the first, author_id, for author pages), so a listing's count
and its id walk read the index alone: SQLite then never touches a posts row for them. The
first now leads with kind (always 'post' in it): without planner statistics SQLite prefers
an index with an equality on its first column, and would otherwise take
ix_posts_status_updated and sort every live post.

The search index holds live articles only (pages are never searched) and keeps each
article's category_id and published_at beside its text (UNINDEXED in FTS5, plain columns
on PostgreSQL), so search picks its bounded set of candidates, filters them by section and
date and counts them per section without a join per match. The index is rebuilt from the
one it replaces (its text is already plain), so no post is parsed again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 23:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_LIVE_ARTICLE = "status IN ('published', 'scheduled') AND kind = 'post'"
_TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"


# The columns of (ix_posts_live_listing, ix_posts_live_section_listing), before and after.
_BEFORE = (['published_at', 'id'], ['category_id', 'published_at', 'id'])
_AFTER = (
    ['kind', 'published_at', 'id', 'status', 'author_id'],
    ['category_id', 'published_at', 'id', 'status', 'kind'],
)


def _replace_listing_indexes(columns):
    where = sa.text(_LIVE_ARTICLE)
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_posts_live_section_listing', postgresql_where=where, sqlite_where=where
        )
        batch_op.drop_index('ix_posts_live_listing', postgresql_where=where, sqlite_where=where)
    home, section = columns
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index(
            'ix_posts_live_listing', home, unique=False,
            postgresql_where=where, sqlite_where=where,
        )
        batch_op.create_index(
            'ix_posts_live_section_listing', section, unique=False,
            postgresql_where=where, sqlite_where=where,
        )


def _copy_fts(columns, select_sql):
    """SQLite: build post_search anew with columns, filled by select_sql from the old one."""
    op.execute(f"CREATE VIRTUAL TABLE post_search_new USING fts5({columns}, {_TOKENIZE})")
    op.execute(f"INSERT INTO post_search_new {select_sql}")
    op.execute("DROP TABLE post_search")
    op.execute("ALTER TABLE post_search_new RENAME TO post_search")


def upgrade():
    _replace_listing_indexes(_AFTER)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE post_search ADD COLUMN category_id integer")
        op.execute("ALTER TABLE post_search ADD COLUMN published_at timestamp with time zone")
        op.execute(
            "UPDATE post_search SET category_id = p.category_id, published_at = p.published_at"
            " FROM posts p WHERE p.id = post_search.post_id"
        )
        op.execute(
            "DELETE FROM post_search USING posts p"
            " WHERE p.id = post_search.post_id AND p.kind <> 'post'"
        )
    else:
        _copy_fts(
            "title, excerpt, body, category_id UNINDEXED, published_at UNINDEXED",
            "(rowid, title, excerpt, body, category_id, published_at)"
            " SELECT s.rowid, s.title, s.excerpt, s.body, p.category_id, p.published_at"
            " FROM post_search s JOIN posts p ON p.id = s.rowid WHERE p.kind = 'post'",
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE post_search DROP COLUMN published_at")
        op.execute("ALTER TABLE post_search DROP COLUMN category_id")
    else:
        _copy_fts(
            "title, excerpt, body",
            "(rowid, title, excerpt, body) SELECT rowid, title, excerpt, body FROM post_search",
        )
    _replace_listing_indexes(_BEFORE)
