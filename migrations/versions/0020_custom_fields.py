"""Custom fields: a post's or page's keys and values (WordPress's post meta), in order

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 11:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_custom_fields_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
        # Its index answers "this post's fields, in order" too.
        sa.UniqueConstraint(
            "post_id", "position", name=op.f("uq_custom_fields_post_id")
        ),
    )


def downgrade():
    op.drop_table("custom_fields")
