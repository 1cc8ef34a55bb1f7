"""Monitor hosts: whether a host's logs were collected off it or come from a live sensor.

Revision ID: 0002_monitor_collected
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_monitor_collected"
down_revision = "0001_monitor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("monitor_hosts", sa.Column("collected", sa.Boolean(), nullable=True))
    # Every ingest before this revision was a live one: their hosts may still fall silent.
    hosts = sa.table("monitor_hosts", sa.column("collected", sa.Boolean()))
    op.execute(hosts.update().values(collected=False))


def downgrade() -> None:
    with op.batch_alter_table("monitor_hosts") as batch:
        batch.drop_column("collected")
