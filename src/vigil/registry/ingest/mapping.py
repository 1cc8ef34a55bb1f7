"""A YAML mapping from another layout to the lake's columns.

    columns:            # the file's header -> the lake's column
      Họ và tên: full_name
      Ngày sinh: birth_date
      Số CCCD: citizen_id
    values:             # per lake column, a value as written -> as kept
      sex: {M: Nam, F: Nữ, "1": Nam, "0": Nữ}
    constants:          # a column the file lacks, the same for every row
      commune: C01

Without a mapping the file's headers are the lake's own names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vigil.core.errors import Location
from vigil.registry.errors import RegistryError
from vigil.registry.text import nfc


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)

    def rename(self, header: str) -> str:
        header = nfc(header).strip()
        return self.columns.get(header, header)

    def value(self, column: str, value: Any) -> Any:
        table = self.values.get(column)
        if table is None or value is None:
            return value
        return table.get(str(value).strip(), value)


def load_mapping(path: Path | None) -> Mapping:
    if path is None:
        return Mapping()
    try:
        body: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(body, dict):
            raise TypeError("a mapping is a YAML mapping")
        return Mapping(
            columns={nfc(str(k)).strip(): str(v) for k, v in (body.get("columns") or {}).items()},
            values={
                str(col): {str(k): nfc(str(v)) for k, v in table.items()}
                for col, table in (body.get("values") or {}).items()
            },
            constants={str(k): str(v) for k, v in (body.get("constants") or {}).items()},
        )
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError, AttributeError) as e:
        raise RegistryError(f"cannot read the mapping: {e}", location=Location(str(path))) from e
