"""Candidates room table: the latest check of each candidate.

Revision ID: 0001_candidates
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_candidates"
down_revision = None
branch_labels = ("candidates",)
depends_on = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "candidate_checks",
        sa.Column("candidate_id", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("full_name", sa.String(300), nullable=False),
        sa.Column("mismatches", sa.JSON(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("method", sa.String(32), nullable=True),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", name="pk_candidate_checks"),
        sa.ForeignKeyConstraint(["unit"], ["units.code"], name="fk_candidate_checks_unit_units"),
    )
    op.create_index("ix_candidate_checks_unit_status", "candidate_checks", ["unit", "status"])


def downgrade() -> None:
    op.drop_index("ix_candidate_checks_unit_status", table_name="candidate_checks")
    op.drop_table("candidate_checks")
