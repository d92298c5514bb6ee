"""server-side sessions

Each signed-in browser gets a row in user_sessions (only hashes of its secrets);
the single per-person users.session_token goes.

Revision ID: 0008
Revises: 0007
"""
import secrets

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('authenticated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('device', sa.String(length=80), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('remember_hash', sa.String(length=64), nullable=True),
        sa.Column('remember_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('remember_hash', name=op.f('uq_user_sessions_remember_hash')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash')),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    # Everyone signs in again: the old cookies named users.session_token.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_session_token', type_='unique')
        batch_op.drop_column('session_token')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_users_session_token', ['session_token'])

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
