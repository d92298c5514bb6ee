"""co-authors in byline order; people's profile links

post_coauthors holds (post_id, user_id, position): the people who wrote a post beside its
author, position 0 first. Its (user_id, post_id) index serves the author pages, which list
the stories a person wrote or co-wrote. users.links keeps up to five https addresses of the
person elsewhere, one a line (empty for everyone to begin with).

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01 23:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('post_coauthors',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_coauthors_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_coauthors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'user_id', name=op.f('pk_post_coauthors'))
    )
    with op.batch_alter_table('post_coauthors', schema=None) as batch_op:
        batch_op.create_index('ix_post_coauthors_user_post', ['user_id', 'post_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('links', sa.Text(), server_default='', nullable=False))


def downgrade():
    # Dropped in place: copying the users table would trip the keys that point at it.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('links')

    with op.batch_alter_table('post_coauthors', schema=None) as batch_op:
        batch_op.drop_index('ix_post_coauthors_user_post')

    op.drop_table('post_coauthors')
