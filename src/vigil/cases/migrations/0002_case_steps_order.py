"""Case steps: the earlier steps a step waits for, and the reason a step did not apply.

Revision ID: 0002_case_steps_order
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_case_steps_order"
down_revision = "0001_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Steps copied before this revision waited for nothing: '[]' for the rows already there.
    op.add_column(
        "case_steps",
        sa.Column("after", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column("case_steps", sa.Column("not_applicable", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_steps") as batch:
        batch.drop_column("not_applicable")
        batch.drop_column("after")
