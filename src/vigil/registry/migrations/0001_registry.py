"""Registry tables: checked batches, pair decisions, household reviews, daily scores.

Revision ID: 0001_registry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_registry"
down_revision = None
branch_labels = ("registry",)
depends_on = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "registry_checked_batches",
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("batch", sa.String(128), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("dataset", "batch", name="pk_registry_checked_batches"),
    )
    op.create_table(
        "registry_pair_decisions",
        sa.Column("left", sa.String(64), nullable=False),
        sa.Column("right", sa.String(64), nullable=False),
        sa.Column("commune", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("left", "right", name="pk_registry_pair_decisions"),
    )
    op.create_index("ix_registry_pair_decisions_commune", "registry_pair_decisions", ["commune"])
    op.create_table(
        "registry_household_reviews",
        sa.Column("household_id", sa.String(64), nullable=False),
        sa.Column("commune", sa.String(32), nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", name="pk_registry_household_reviews"),
    )
    op.create_index(
        "ix_registry_household_reviews_commune", "registry_household_reviews", ["commune"]
    )
    op.create_table(
        "registry_scores",
        sa.Column("commune", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Float(), nullable=False),
        sa.Column("sufficient", sa.Float(), nullable=False),
        sa.Column("clean", sa.Float(), nullable=False),
        sa.Column("living", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("commune", "day", name="pk_registry_scores"),
    )


def downgrade() -> None:
    for table in (
        "registry_scores",
        "registry_household_reviews",
        "registry_pair_decisions",
        "registry_checked_batches",
    ):
        op.drop_table(table)
