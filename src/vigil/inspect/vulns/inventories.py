"""Software inventories read into components (ecosystem, name, version), whatever their format.

CycloneDX and SPDX JSON SBOMs (by package URL), `pip freeze`, `dpkg -l`, npm's
`package-lock.json`, Go's `go.sum` and Cargo's `Cargo.lock`. A line or entry that cannot be read
is a problem naming the file and line; the rest are kept.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from vigil.core.problems import InputProblem
from vigil.inspect.errors import VulnDataError
from vigil.inspect.vulns.versions import PURL_ECOSYSTEMS


@dataclass(frozen=True)
class Component:
    ecosystem: str
    name: str
    version: str


Read = tuple[list[Component], list[InputProblem]]
_FREEZE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def parse_purl(purl: str) -> Component | None:
    """pkg:type/namespace/name@version -> a component of a known ecosystem, else None."""
    if not purl.startswith("pkg:"):
        return None
    body = purl[4:].split("#", 1)[0].split("?", 1)[0]
    path, _, version = body.rpartition("@")
    if not path:
        return None
    kind, _, rest = path.partition("/")
    ecosystem = PURL_ECOSYSTEMS.get(kind.lower())
    if ecosystem is None or not rest or not version:
        return None
    parts = [unquote(p) for p in rest.split("/") if p]
    if ecosystem == "Debian":
        name = parts[-1]  # pkg:deb/debian/openssl@...
    elif ecosystem == "npm" and len(parts) > 1:
        name = "/".join(parts[-2:])  # @scope/name
    elif ecosystem == "Go":
        name = "/".join(parts)
    else:
        name = parts[-1]
    return Component(ecosystem, name, unquote(version))


def _purl_list(path: Path, items: list[Any], key: str, purl_of: Any) -> Read:
    out, problems = [], []
    for i, item in enumerate(items):
        purl = purl_of(item) if isinstance(item, dict) else None
        component = parse_purl(purl) if purl else None
        if component is None:
            name = item.get("name", "?") if isinstance(item, dict) else "?"
            problems.append(
                InputProblem.warning(
                    str(path),
                    f"{key} {name!r}: no package URL of a known ecosystem",
                    record=f"{key}[{i}]",
                    code="no-purl",
                )
            )
            continue
        out.append(component)
    return out, problems


def _spdx_purl(item: dict[str, Any]) -> str | None:
    for ref in item.get("externalRefs") or []:
        if ref.get("referenceType") == "purl":
            return str(ref.get("referenceLocator"))
    return None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise VulnDataError(f"{path}: not valid JSON: {e}") from e


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise VulnDataError(f"{path}: not UTF-8 text (byte {e.start})") from e


def _pip_freeze(path: Path) -> Read:
    out, problems = [], []
    for number, line in enumerate(_lines(path), start=1):
        text = line.strip()
        if not text or text.startswith(("#", "-")):
            continue
        m = _FREEZE.match(text)
        if m is None:
            problems.append(
                InputProblem.warning(
                    str(path), "not name==version", line=number, raw=text[:200], code="line"
                )
            )
            continue
        out.append(Component("PyPI", m.group(1), m.group(2)))
    return out, problems


def _dpkg(path: Path) -> Read:
    out = []
    for line in _lines(path):
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "ii":
            out.append(Component("Debian", fields[1].split(":", 1)[0], fields[2]))
    return out, []


def _go_sum(path: Path) -> Read:
    seen: dict[tuple[str, str], Component] = {}
    problems = []
    for number, line in enumerate(_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3:
            problems.append(
                InputProblem.warning(
                    str(path), "not 'module version hash'", line=number, code="line"
                )
            )
            continue
        version = fields[1].removesuffix("/go.mod")
        seen.setdefault((fields[0], version), Component("Go", fields[0], version))
    return list(seen.values()), problems


def _package_lock(path: Path) -> Read:
    doc = _json(path)
    out = []
    packages = doc.get("packages")
    if isinstance(packages, dict):
        for where, meta in packages.items():
            if where and isinstance(meta, dict) and meta.get("version"):
                name = meta.get("name") or where.rsplit("node_modules/", 1)[-1]
                out.append(Component("npm", name, str(meta["version"])))
        return out, []
    stack = [doc.get("dependencies") or {}]
    while stack:
        for name, meta in stack.pop().items():
            if isinstance(meta, dict) and meta.get("version"):
                out.append(Component("npm", name, str(meta["version"])))
                stack.append(meta.get("dependencies") or {})
    return out, []


def _cargo_lock(path: Path) -> Read:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise VulnDataError(f"{path}: not a valid Cargo.lock: {e}") from e
    return [
        Component("crates.io", p["name"], p["version"])
        for p in doc.get("package", [])
        if "name" in p and "version" in p
    ], []


def read_inventory(path: Path) -> Read:
    """The components of one inventory file, recognised by its name or content."""
    if not path.is_file():
        raise VulnDataError(f"{path}: no such file")
    name = path.name.lower()
    if name == "go.sum":
        return _go_sum(path)
    if name == "cargo.lock":
        return _cargo_lock(path)
    if name in ("package-lock.json", "npm-shrinkwrap.json"):
        return _package_lock(path)
    if name.endswith(".json"):
        doc = _json(path)
        if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
            return _purl_list(
                path, doc.get("components") or [], "component", lambda c: c.get("purl")
            )
        if isinstance(doc, dict) and "spdxVersion" in doc:
            return _purl_list(path, doc.get("packages") or [], "package", _spdx_purl)
        if isinstance(doc, dict) and "lockfileVersion" in doc:
            return _package_lock(path)
        raise VulnDataError(f"{path}: JSON that is neither CycloneDX, SPDX nor package-lock")
    lines = _lines(path)
    if any(line.startswith("ii ") for line in lines[:50]) or "dpkg" in name:
        return _dpkg(path)
    return _pip_freeze(path)
