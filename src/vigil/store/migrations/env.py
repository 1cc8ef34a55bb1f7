"""Alembic environment: runs on the connection Vigil hands over (see vigil.store.schema)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from vigil.store.schema import load_models

target_metadata = load_models()
config = context.config

connection = config.attributes.get("connection")
if connection is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
