"""pages: rows of posts with kind "page", no section, and an optional parent page

posts.kind ("post" for every existing row, "page" for About, Contact…), posts.category_id
becomes nullable (pages have no section) and posts.parent_id (nullable, SET NULL when the
parent goes) gives pages their hierarchy. The two live listing indexes now hold live
articles only, so pages never walk them. The downgrade deletes the pages (an older schema
cannot hold a post without a section) and restores the columns and indexes as they were.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 23:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_LIVE = "status IN ('published', 'scheduled')"
_LIVE_ARTICLE = "status IN ('published', 'scheduled') AND kind = 'post'"


def _listing_indexes(batch_op, where):
    batch_op.create_index(
        'ix_posts_live_listing', ['published_at', 'id'], unique=False,
        postgresql_where=sa.text(where), sqlite_where=sa.text(where),
    )
    batch_op.create_index(
        'ix_posts_live_section_listing', ['category_id', 'published_at', 'id'], unique=False,
        postgresql_where=sa.text(where), sqlite_where=sa.text(where),
    )


def _drop_listing_indexes(batch_op, where):
    batch_op.drop_index(
        'ix_posts_live_section_listing',
        postgresql_where=sa.text(where), sqlite_where=sa.text(where),
    )
    batch_op.drop_index(
        'ix_posts_live_listing', postgresql_where=sa.text(where), sqlite_where=sa.text(where)
    )


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=8), server_default='post', nullable=False)
        )
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.alter_column('category_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_posts_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_posts_parent_id_posts'), 'posts', ['parent_id'], ['id'],
            ondelete='SET NULL',
        )
        _drop_listing_indexes(batch_op, _LIVE)
    with op.batch_alter_table('posts', schema=None) as batch_op:
        _listing_indexes(batch_op, _LIVE_ARTICLE)


def downgrade():
    op.execute("DELETE FROM posts WHERE kind = 'page'")
    with op.batch_alter_table('posts', schema=None) as batch_op:
        _drop_listing_indexes(batch_op, _LIVE_ARTICLE)
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_posts_parent_id_posts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_posts_parent_id'))
        batch_op.alter_column('category_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('parent_id')
        batch_op.drop_column('kind')
        _listing_indexes(batch_op, _LIVE)
