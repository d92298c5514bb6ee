"""covers are media library items

Posts and sections get cover_media_id, a foreign key to the media table (ON DELETE
SET NULL). cover_image stays, as the address of that media item's largest size,
written by the media service only.

Existing data: a cover address that points at a library item (/uploads/yyyy/mm/<key>-<width>.<ext>,
the key being a known media item) now refers to that item, and its address is
rewritten to the item's largest size. Every other cover address (an external
site, /static/…, javascript:, data: and the like) is DROPPED, with its alt text:
covers can no longer be free addresses. The downgrade keeps cover_image as it is.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:00:00.000000

"""
import json
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_LIBRARY_ADDRESS = re.compile(r"^/uploads/\d{4}/\d{2}/([0-9a-f]{32})-\d+\.(?:jpg|png|webp)$")


def _largest_url(row) -> str:
    """The media service's address of a media row's widest size (its JPEG or PNG)."""
    widths = row.widths
    if isinstance(widths, str):
        widths = json.loads(widths or "[]")
    width = max(widths) if widths else row.width
    return f"/uploads/{row.folder}/{row.key}-{width}.{row.ext}"


def _link_covers(connection, table_name: str) -> None:
    """Point covers at library items where the address is one; drop every other address."""
    table = sa.table(
        table_name,
        sa.column('id', sa.Integer),
        sa.column('cover_image', sa.String),
        sa.column('cover_alt', sa.String),
        sa.column('cover_media_id', sa.Integer),
    )
    media = sa.table(
        'media',
        sa.column('id', sa.Integer),
        sa.column('key', sa.String),
        sa.column('folder', sa.String),
        sa.column('ext', sa.String),
        sa.column('width', sa.Integer),
        sa.column('widths', sa.JSON),
    )
    rows = connection.execute(
        sa.select(table.c.id, table.c.cover_image).where(table.c.cover_image.isnot(None))
    ).all()
    for row_id, address in rows:
        match = _LIBRARY_ADDRESS.match((address or "").strip())
        item = None
        if match:
            item = connection.execute(
                sa.select(media).where(media.c.key == match.group(1))
            ).first()
        if item is None:
            values = {'cover_image': None, 'cover_alt': '', 'cover_media_id': None}
        else:
            values = {'cover_image': _largest_url(item), 'cover_media_id': item.id}
        connection.execute(sa.update(table).where(table.c.id == row_id).values(**values))


def upgrade():
    for table_name in ('categories', 'posts'):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('cover_media_id', sa.Integer(), nullable=True))
            batch_op.create_index(
                batch_op.f(f'ix_{table_name}_cover_media_id'), ['cover_media_id'], unique=False
            )
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table_name}_cover_media_id_media'),
                'media', ['cover_media_id'], ['id'], ondelete='SET NULL',
            )
        _link_covers(op.get_bind(), table_name)


def downgrade():
    for table_name in ('posts', 'categories'):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f'fk_{table_name}_cover_media_id_media'), type_='foreignkey'
            )
            batch_op.drop_index(batch_op.f(f'ix_{table_name}_cover_media_id'))
            batch_op.drop_column('cover_media_id')
