"""Indicators of compromise, shared reference data (STIX, MISP, signature-base imports).

Revision ID: 0002_indicators
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_indicators"
down_revision = "0001_platform"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "indicators",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(1000), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("exclude", sa.String(1000), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_indicators"),
        sa.UniqueConstraint("kind", "value", "source", name="uq_indicators_kind"),
    )
    op.create_index("ix_indicators_source", "indicators", ["source"])
    op.create_index("ix_indicators_valid_until", "indicators", ["valid_until"])


def downgrade() -> None:
    op.drop_table("indicators")
