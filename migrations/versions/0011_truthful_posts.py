"""posts remember their status before the trash; derived excerpts are derived again

posts.status_before_trash (nullable) keeps the status a post had when it was trashed, so
restoring it can bring it back as it was. Posts already in the trash get it from the audit
log (the last publish, schedule, unpublish, submit or send-back before they were trashed),
else "published" / "scheduled" when they carry a publication date, else nothing (they come
back as drafts, as before).

Excerpts: the desk used to put a derived excerpt into the excerpt field, so saving the page
marked it written. An excerpt that is only the opening words of the body (compared without
spaces) is marked derived again, and every derived excerpt is derived anew with a space
between blocks and none before punctuation. The downgrade drops the column and leaves the
excerpts as they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:00:00.000000

"""
import html
import re
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# The audit actions that set a post's status, and the status each left it in.
_STATUS_AFTER = {
    'post.publish': 'published',
    'post.schedule': 'scheduled',
    'post.unpublish': 'draft',
    'post.submit': 'pending',
    'post.reject': 'draft',
    'post.restore': 'draft',
}

# A frozen copy of blog.sanitize.plain_text and desk.derive_excerpt as of this revision:
# a migration must not change when the application's code does.
_BLOCK_TAG = re.compile(
    r"</?(?:p|h[1-6]|li|ul|ol|dl|dt|dd|blockquote|pre|figure|figcaption|table|caption|thead"
    r"|tbody|tfoot|tr|td|th|hr|br|div|img|section|article|header|footer|aside|nav|iframe)"
    r"\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")
_EXCERPT_WORDS = 40
_EXCERPT_CHARS = 300


def _plain_text(markup):
    text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", markup or "")))
    return " ".join(text.split())


def _derived(body):
    parts = _plain_text(body).split()
    text = " ".join(parts[:_EXCERPT_WORDS])
    cut = len(parts) > _EXCERPT_WORDS
    if len(text) > _EXCERPT_CHARS:
        text, cut = text[:_EXCERPT_CHARS], True
        space = text.rfind(" ")
        if space > _EXCERPT_CHARS // 2:
            text = text[:space]
    return text + ("…" if cut else "")


def _opening_words(excerpt, body):
    """Whether excerpt is the body's opening words (spacing aside), as the old desk derived it."""
    squeezed = "".join((excerpt or "").removesuffix("…").split())
    return bool(squeezed) and "".join(_plain_text(body).split()).startswith(squeezed)


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


posts = sa.table(
    'posts',
    sa.column('id', sa.Integer),
    sa.column('status', sa.String),
    sa.column('status_before_trash', sa.String),
    sa.column('published_at', sa.DateTime(timezone=True)),
    sa.column('excerpt', sa.Text),
    sa.column('excerpt_written', sa.Boolean),
    sa.column('body', sa.Text),
)
audit_log = sa.table(
    'audit_log',
    sa.column('id', sa.Integer),
    sa.column('action', sa.String),
    sa.column('target_type', sa.String),
    sa.column('target_id', sa.Integer),
)


def _status_before_trash(connection, post_id, published_at):
    """The status a trashed post had, from the audit log or its publication date."""
    last_trash = connection.execute(
        sa.select(sa.func.max(audit_log.c.id)).where(
            audit_log.c.target_type == 'post',
            audit_log.c.target_id == post_id,
            audit_log.c.action == 'post.trash',
        )
    ).scalar()
    query = sa.select(audit_log.c.action).where(
        audit_log.c.target_type == 'post',
        audit_log.c.target_id == post_id,
        audit_log.c.action.in_(list(_STATUS_AFTER)),
    )
    if last_trash is not None:
        query = query.where(audit_log.c.id < last_trash)
    action = connection.execute(query.order_by(audit_log.c.id.desc()).limit(1)).scalar()
    if action is not None:
        return _STATUS_AFTER[action]
    published_at = _aware(published_at)
    if published_at is None:
        return None
    return 'scheduled' if published_at > datetime.now(timezone.utc) else 'published'


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_before_trash', sa.String(length=16), nullable=True))

    connection = op.get_bind()
    trashed = connection.execute(
        sa.select(posts.c.id, posts.c.published_at).where(posts.c.status == 'trash')
    ).all()
    for post_id, published_at in trashed:
        before = _status_before_trash(connection, post_id, published_at)
        if before is not None:
            connection.execute(
                sa.update(posts).where(posts.c.id == post_id).values(status_before_trash=before)
            )

    rows = connection.execute(
        sa.select(posts.c.id, posts.c.excerpt, posts.c.excerpt_written, posts.c.body)
    ).all()
    for post_id, excerpt, written, body in rows:
        if written and not _opening_words(excerpt, body):
            continue
        derived = _derived(body)
        if written or excerpt != derived:
            connection.execute(
                sa.update(posts)
                .where(posts.c.id == post_id)
                .values(excerpt=derived, excerpt_written=False)
            )


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('status_before_trash')
