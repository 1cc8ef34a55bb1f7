"""One error hierarchy for Vigil; every error can say where it came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem was found: a file and line (and column, when a compiler says), or a
    dataset and record."""

    source: str
    line: int | None = None
    record: str | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.source
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        if self.record is not None:
            text += f" [{self.record}]"
        return text


class Term(str):
    """A stored code or fixed English word inside an error's params (a status, a kind) that a page
    translates like any other message (core.i18n.error_text)."""

    __slots__ = ()


class VigilError(Exception):
    """Root of every error Vigil raises on purpose."""

    #: HTTP status the web layer maps this error to (one place: vigil.web.errors).
    status_code = 500
    #: Stable machine-readable code for API clients and scripts.
    code = "error"

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        params: dict[str, object] | None = None,
    ) -> None:
        # With `params`, `message` is an English msgid with %(name)s fields: a page shows it
        # translated into the reader's language (core.i18n.error_text), logs and the API in English.
        self.template = message
        self.params = dict(params or {})
        self.message = message % self.params if params else message
        self.location = location
        super().__init__(f"{location}: {self.message}" if location else self.message)


class ConfigError(VigilError):
    """vigil.toml or a setting is missing or wrong."""

    status_code = 500
    code = "config"


class NotFoundError(VigilError):
    status_code = 404
    code = "not_found"


class ValidationError(VigilError):
    """Input that a user or a file gave is not acceptable."""

    status_code = 422
    code = "invalid"


class ConflictError(VigilError):
    """The action does not fit the current state (closing a closed case...)."""

    status_code = 409
    code = "conflict"


class AuthError(VigilError):
    status_code = 401
    code = "unauthenticated"


class PermissionDenied(VigilError):
    """The actor's role or unit does not allow this."""

    status_code = 403
    code = "forbidden"


class StoreError(VigilError):
    """The operational database refused or is unreachable."""

    code = "store"


class LakeError(VigilError):
    code = "lake"


class IngestError(VigilError):
    """A source could not be read; per-record problems go to quarantine instead."""

    status_code = 422
    code = "ingest"


class DependencyMissing(VigilError):
    """An optional engine (pyspark, psycopg...) is not installed."""

    code = "dependency"

    def __init__(self, module: str, extra: str = "", *, install: str | None = None) -> None:
        # A Python package names its pip extra; anything else (Java...) says how to install it.
        how = install or f"pip install '{extra}'"
        super().__init__(f"{module} is not installed; install it with: {how}")


class CasesError(VigilError):
    code = "cases"


class ReportError(VigilError):
    code = "report"
