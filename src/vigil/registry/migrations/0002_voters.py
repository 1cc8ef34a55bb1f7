"""Voter lists: each list built, its entries and its changes against the list before.

Revision ID: 0002_voters
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_voters"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_voter_lists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("commune", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("voting_day", sa.Date(), nullable=False),
        sa.Column("born_by", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("built_by", sa.String(64), nullable=False),
        sa.Column("areas_rule", sa.String(200), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_registry_voter_lists"),
    )
    op.create_index(
        "ix_registry_voter_lists_commune_version", "registry_voter_lists", ["commune", "version"]
    )
    op.create_table(
        "registry_voter_entries",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("polling_area", sa.String(64), nullable=False),
        sa.Column("village", sa.String(32), nullable=True),
        sa.Column("household_id", sa.String(64), nullable=True),
        sa.Column("citizen_id", sa.String(32), nullable=True),
        sa.Column("full_name", sa.String(200), nullable=True),
        sa.Column("sex", sa.String(16), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["registry_voter_lists.id"],
            name="fk_registry_voter_entries_list_id_registry_voter_lists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "person_id", name="pk_registry_voter_entries"),
    )
    op.create_table(
        "registry_voter_changes",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("polling_area", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["registry_voter_lists.id"],
            name="fk_registry_voter_changes_list_id_registry_voter_lists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "person_id", name="pk_registry_voter_changes"),
    )


def downgrade() -> None:
    op.drop_table("registry_voter_changes")
    op.drop_table("registry_voter_entries")
    op.drop_index("ix_registry_voter_lists_commune_version", table_name="registry_voter_lists")
    op.drop_table("registry_voter_lists")
