"""The demo room's hooks: it mounts `vigil demo` (its own data is built directly, not by hook)."""

from __future__ import annotations

from typing import Any

from vigil.plugins import hookimpl


@hookimpl
def vigil_cli(app: Any) -> None:
    from vigil.demo.cli import demo

    app.command("demo")(demo)
