"""Sample room: its notes table.

Revision ID: 0001_sample
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_sample"
down_revision = None
branch_labels = ("sample",)
depends_on = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "sample_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sample_notes"),
    )


def downgrade() -> None:
    op.drop_table("sample_notes")
