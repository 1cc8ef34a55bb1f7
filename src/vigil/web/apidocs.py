"""The OpenAPI document turned into rows for the API reference page (served without any CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    params: list[Param]
    body: str | None
    responses: list[tuple[str, str]]


def type_name(schema: dict[str, Any] | None) -> str:
    """A schema as a reader writes it: CaseOut, list[ShiftOut], string | null."""
    if not schema:
        return "-"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(type_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{type_name(schema.get('items'))}]"
    return str(schema.get("type", "object"))


def _json_schema(content: dict[str, Any] | None) -> dict[str, Any] | None:
    media = (content or {}).get("application/json")
    return media.get("schema") if isinstance(media, dict) else None


def operations(document: dict[str, Any]) -> list[Operation]:
    out = []
    for path, methods in document.get("paths", {}).items():
        for method, op in methods.items():
            body = op.get("requestBody")
            out.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    params=[
                        Param(
                            p["name"],
                            p["in"],
                            bool(p.get("required")),
                            type_name(p.get("schema")),
                            p.get("description", ""),
                        )
                        for p in op.get("parameters", [])
                    ],
                    body=type_name(_json_schema(body.get("content"))) if body else None,
                    responses=[
                        (status, type_name(_json_schema(r.get("content"))))
                        for status, r in op.get("responses", {}).items()
                    ],
                )
            )
    return out
