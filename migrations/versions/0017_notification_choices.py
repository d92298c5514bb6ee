"""Notifications: each person's choice of mails, and the record of mails sent (no repeats)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 08:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CHOICES = (
    "notify_review_requests",
    "notify_post_news",
    "notify_replies",
    "notify_moderation_digest",
)


def upgrade():
    # Plain ALTER TABLE, no batch: copying the users table is refused by SQLite while other
    # tables' rows point at it (foreign keys are on), and adding a column needs no copy.
    for name in CHOICES:
        op.add_column(
            "users", sa.Column(name, sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "notification_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_log_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_log")),
        sa.UniqueConstraint("user_id", "kind", "key", name=op.f("uq_notification_log_user_id")),
    )
    with op.batch_alter_table("notification_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_log_sent_at"), ["sent_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("notification_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_log_sent_at"))
    op.drop_table("notification_log")
    # Plain ALTER TABLE (SQLite 3.35+ has DROP COLUMN), for the reason given in upgrade.
    for name in reversed(CHOICES):
        op.execute(f"ALTER TABLE users DROP COLUMN {name}")
