"""The sample room's one table, on the metadata every room shares.

A plain `Table` rather than a mapped class, so that the test that installs this package can take
it off the shared metadata again when it is done; a room would usually map a class on `Base`.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from vigil.store.base import Base

sample_notes = Table(
    "sample_notes",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("text", String(200), nullable=False),
)
