"""Information watch tables: watchlist, facts, scanned batches, advisories.

Revision ID: 0001_infowatch
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_infowatch"
down_revision = None
branch_labels = ("infowatch",)
depends_on = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "infowatch_watchlist",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("owner", sa.String(300), nullable=False),
        sa.Column("image_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("added_by", sa.String(100), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_infowatch_watchlist"),
        sa.UniqueConstraint("kind", "value", name="uq_infowatch_watchlist_kind_value"),
    )
    op.create_table(
        "infowatch_facts",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_infowatch_facts"),
    )
    op.create_table(
        "infowatch_scans",
        sa.Column("batch", sa.String(128), nullable=False),
        sa.Column("scanned_at", sa.DateTime(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("batch", name="pk_infowatch_scans"),
    )
    op.create_table(
        "infowatch_advisories",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("title_vi", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("body_vi", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("finding_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("approver", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_infowatch_advisories"),
    )


def downgrade() -> None:
    for table in (
        "infowatch_advisories",
        "infowatch_scans",
        "infowatch_facts",
        "infowatch_watchlist",
    ):
        op.drop_table(table)
