"""Inspection room tables: inspections, answers, evidence, remediation items.

Revision ID: 0001_inspect
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_inspect"
down_revision = None
branch_labels = ("inspect",)
depends_on = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "inspect_inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("catalog_version", sa.String(32), nullable=False),
        sa.Column("inspector", sa.String(64), nullable=False),
        sa.Column("planned_for", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inspect_inspections"),
        sa.ForeignKeyConstraint(["unit"], ["units.code"], name="fk_inspect_inspections_unit_units"),
    )
    op.create_index("ix_inspect_inspections_unit", "inspect_inspections", ["unit"])
    op.create_index(
        "ix_inspect_inspections_unit_closed", "inspect_inspections", ["unit", "closed_at"]
    )
    op.create_table(
        "inspect_answers",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("control", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("answered_by", sa.String(64), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("inspection_id", "control", name="pk_inspect_answers"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspect_inspections.id"],
            name="fk_inspect_answers_inspection_id_inspect_inspections",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "inspect_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stored", sa.String(500), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inspect_evidence"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspect_inspections.id"],
            name="fk_inspect_evidence_inspection_id_inspect_inspections",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_inspect_evidence_inspection_id", "inspect_evidence", ["inspection_id"])
    op.create_table(
        "inspect_remediation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("control", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inspect_remediation"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspect_inspections.id"],
            name="fk_inspect_remediation_inspection_id_inspect_inspections",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit"], ["units.code"], name="fk_inspect_remediation_unit_units"),
    )
    op.create_index(
        "ix_inspect_remediation_inspection_id", "inspect_remediation", ["inspection_id"]
    )
    op.create_index(
        "ix_inspect_remediation_status_due", "inspect_remediation", ["status", "due_at"]
    )


def downgrade() -> None:
    op.drop_table("inspect_remediation")
    op.drop_table("inspect_evidence")
    op.drop_table("inspect_answers")
    op.drop_table("inspect_inspections")
