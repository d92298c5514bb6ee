"""SQLite: each search entry's section and date in a narrow table beside the FTS5 index

FTS5 reads a whole row of its content (title, excerpt and the body, over its overflow
pages) to give one column; reading category_id and published_at from the index for a
thousand candidates cost three quarters of a common word's search. They now live in
post_search_facts (post_id INTEGER PRIMARY KEY, category_id, published_at), a few bytes
a row, which search joins by rowid as it walks the matches newest first. The FTS5 table
is rebuilt without them (its text is copied, not parsed again). PostgreSQL's post_search
is a plain table whose columns are cheap to read: it is left as it is.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 02:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"


def _copy_fts(columns, select_sql):
    """SQLite: build post_search anew with columns, filled by select_sql from the old one."""
    op.execute(f"CREATE VIRTUAL TABLE post_search_new USING fts5({columns}, {_TOKENIZE})")
    op.execute(f"INSERT INTO post_search_new {select_sql}")
    op.execute("DROP TABLE post_search")
    op.execute("ALTER TABLE post_search_new RENAME TO post_search")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute(
        "CREATE TABLE post_search_facts (post_id INTEGER PRIMARY KEY,"
        " category_id INTEGER, published_at DATETIME)"
    )
    op.execute(
        "INSERT INTO post_search_facts (post_id, category_id, published_at)"
        " SELECT rowid, category_id, published_at FROM post_search"
    )
    _copy_fts(
        "title, excerpt, body",
        "(rowid, title, excerpt, body) SELECT rowid, title, excerpt, body FROM post_search",
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        return
    _copy_fts(
        "title, excerpt, body, category_id UNINDEXED, published_at UNINDEXED",
        "(rowid, title, excerpt, body, category_id, published_at)"
        " SELECT s.rowid, s.title, s.excerpt, s.body, f.category_id, f.published_at"
        " FROM post_search s JOIN post_search_facts f ON f.post_id = s.rowid",
    )
    op.execute("DROP TABLE post_search_facts")
