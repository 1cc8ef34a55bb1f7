"""The registry room's errors."""

from __future__ import annotations

from vigil.core.errors import VigilError


class RegistryError(VigilError):
    code = "registry"
    status_code = 422
