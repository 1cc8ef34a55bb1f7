"""Monitor tables: host units, Sigma rule sets and rules, scanned batches.

Revision ID: 0001_monitor
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_monitor"
down_revision = None
branch_labels = ("monitor",)
depends_on = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "monitor_hosts",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_monitor_hosts"),
    )
    op.create_index("ix_monitor_hosts_unit", "monitor_hosts", ["unit"])
    op.create_table(
        "monitor_rulesets",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column("converted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_monitor_rulesets"),
    )
    op.create_table(
        "monitor_rules",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("ruleset", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("logsource", sa.JSON(), nullable=False),
        sa.Column("group_key", sa.String(100), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("prefilter", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_rules"),
        sa.ForeignKeyConstraint(
            ["ruleset"],
            ["monitor_rulesets.name"],
            ondelete="CASCADE",
            name="fk_monitor_rules_ruleset_monitor_rulesets",
        ),
    )
    op.create_index("ix_monitor_rules_ruleset", "monitor_rules", ["ruleset"])
    op.create_table(
        "monitor_scans",
        sa.Column("ruleset", sa.String(100), nullable=False),
        sa.Column("batch", sa.String(128), nullable=False),
        sa.Column("scanned_at", sa.DateTime(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ruleset", "batch", name="pk_monitor_scans"),
        sa.ForeignKeyConstraint(
            ["ruleset"],
            ["monitor_rulesets.name"],
            ondelete="CASCADE",
            name="fk_monitor_scans_ruleset_monitor_rulesets",
        ),
    )


def downgrade() -> None:
    for table in ("monitor_scans", "monitor_rules", "monitor_rulesets", "monitor_hosts"):
        op.drop_table(table)
