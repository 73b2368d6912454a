"""outbox key, so that one key's events are published in the order they were written

Revision ID: b3c1d2e4f5a6
Revises: 358c5b3f05e7
Create Date: 2026-11-23 04:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "b3c1d2e4f5a6"
down_revision = "358c5b3f05e7"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    # SQLite (the embedded default) has no schemas; see the first migration.
    return None if op.get_bind().dialect.name == "sqlite" else "conversation"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("key", sa.String(length=64), nullable=True), schema=_schema())
    op.create_index("ix_outbox_key_id", "outbox", ["key", "id"], schema=_schema())


def downgrade() -> None:
    op.drop_index("ix_outbox_key_id", table_name="outbox", schema=_schema())
    op.drop_column("outbox", "key", schema=_schema())
