"""Duty room tables: cases, case steps, case timeline, duty shifts, handover notes.

Revision ID: 0001_cases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_cases"
down_revision = None
branch_labels = ("cases",)
depends_on = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("playbook", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("number", name="uq_cases_number"),
        sa.ForeignKeyConstraint(["unit"], ["units.code"], name="fk_cases_unit_units"),
    )
    op.create_index("ix_cases_unit", "cases", ["unit"])
    op.create_index("ix_cases_status_due", "cases", ["status", "due_at"])
    op.create_index("ix_cases_closed_at", "cases", ["closed_at"])

    op.create_table(
        "case_steps",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("title_vi", sa.String(300), nullable=False),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "position", name="pk_case_steps"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], ondelete="CASCADE", name="fk_case_steps_case_id_cases"
        ),
    )

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], ondelete="CASCADE", name="fk_case_events_case_id_cases"
        ),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])

    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role_on_shift", sa.String(16), nullable=False),
        sa.Column("starts", sa.DateTime(), nullable=False),
        sa.Column("ends", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_duty_shifts"),
        sa.ForeignKeyConstraint(["unit"], ["units.code"], name="fk_duty_shifts_unit_units"),
    )
    op.create_index("ix_duty_shifts_username", "duty_shifts", ["username"])
    op.create_index("ix_duty_shifts_unit_starts", "duty_shifts", ["unit", "starts"])

    op.create_table(
        "handover_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handover_notes"),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["duty_shifts.id"],
            ondelete="SET NULL",
            name="fk_handover_notes_shift_id_duty_shifts",
        ),
        sa.ForeignKeyConstraint(["unit"], ["units.code"], name="fk_handover_notes_unit_units"),
    )
    op.create_index("ix_handover_notes_shift_id", "handover_notes", ["shift_id"])
    op.create_index("ix_handover_notes_at", "handover_notes", ["at"])

    # Access paths of the alert queue through the platform's findings table (see cases.models).
    op.create_index(
        "ix_findings_capability_queue",
        "findings",
        ["capability", "is_open", "severity", "last_seen"],
    )
    op.create_index("ix_findings_unit_first_seen", "findings", ["unit", "first_seen"])
    op.create_index(
        "ix_findings_status_queue", "findings", ["status", "unit", "severity", "last_seen"]
    )


def downgrade() -> None:
    op.drop_index("ix_findings_status_queue", "findings")
    op.drop_index("ix_findings_unit_first_seen", "findings")
    op.drop_index("ix_findings_capability_queue", "findings")
    for table in ("handover_notes", "duty_shifts", "case_events", "case_steps", "cases"):
        op.drop_table(table)
