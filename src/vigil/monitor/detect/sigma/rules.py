"""Sigma rule folders: load them, check them (parse errors and pySigma validators) and convert them.

Everything here is pure: files in, rules, SQL and problems (`InputProblem`) out. Storing a rule
set is `vigil.monitor.detect.sigma.ruleset`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.rule import SigmaLogSource, SigmaRule
from sigma.types import SigmaString
from sigma.validation import SigmaValidator
from sigma.validators.base import SigmaValidationIssue
from sigma.validators.core import validators as core_validators

from vigil.core.errors import Location
from vigil.core.problems import InputProblem, ProblemSeverity
from vigil.monitor.detect.sigma.backend import DuckDBBackend, referenced_columns
from vigil.monitor.detect.sigma.pipeline import mapping_for, vigil_pipeline
from vigil.monitor.detect.sigma.prefilter import Node, rule_tree
from vigil.monitor.errors import RuleError

AnyRule = SigmaRule | SigmaCorrelationRule

#: Validators left out: the ATT&CK and D3FEND tag checks download MITRE data (we run offline),
#: and the TLP v1/v2 checks contradict each other (the plain TLP check covers both).
SKIPPED_VALIDATORS = frozenset({"attacktag", "d3_fendtag", "tlpv1_tag", "tlpv2_tag"})
RULE_SUFFIXES = (".yml", ".yaml")
#: libyaml's loader when PyYAML has it (its wheels do): the same documents as pySigma's
#: `yaml.safe_load_all`, read about ten times faster, which is most of loading 3,000 rules.
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CORRELATION_GROUP = "correlation"


#: pySigma's validator levels, worst first, and the severity each is given. No validator issue
#: leaves a rule out (it is still converted and run), so none is an error of ours; the level
#: stays the problem's `code`, which `rules check` shows and filters on.
VALIDATOR_LEVELS: dict[str, ProblemSeverity] = {
    "high": ProblemSeverity.WARNING,
    "medium": ProblemSeverity.WARNING,
    "low": ProblemSeverity.INFO,
    "informational": ProblemSeverity.INFO,
}
#: What a rule file's problems are called by level, worst first: errors, then the validators'.
LEVELS = ("error", *VALIDATOR_LEVELS)


def problem_level(problem: InputProblem) -> str:
    """A rule file problem's level as `rules check` names it: error, or a validator's level."""
    return problem.code if problem.code in VALIDATOR_LEVELS else "error"


def problem_line(problem: InputProblem) -> str:
    """`file:line: level: message`, the line `rules check` and `rules add` print."""
    where = problem.location
    place = f"{where.source}:{where.line}" if where.line else where.source
    return f"{place}: {problem_level(problem)}: {problem.message}"


def _error(
    path: Path | str, message: str, code: str, line: int | None = None, rule: str | None = None
) -> InputProblem:
    return InputProblem.error(str(path), message, line=line, record=rule, code=code)


@dataclass
class RuleFile:
    path: Path
    text: str
    sha: str
    rules: list[AnyRule] = field(default_factory=list)


@dataclass
class ConvertedRule:
    """One rule and what the runner needs of it; `sql` is None when conversion failed."""

    rule: AnyRule
    path: str
    sha: str
    kind: str  # rule | correlation | reference (a rule only a correlation uses)
    group_key: str
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    prefilter: Node = True
    error: str | None = None

    @property
    def id(self) -> str:
        return str(self.rule.id) if self.rule.id else f"{self.path}#{self.rule.title}"


def line_of(text: str, needle: str | None) -> int | None:
    """The first line of `text` containing `needle` (1-based)."""
    if not needle:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def rule_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise RuleError(f"no such rule folder: {folder}")
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in RULE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def load_rules(folder: Path) -> tuple[list[RuleFile], list[InputProblem]]:
    """Parse every rule file; a file that does not parse is a problem, never an exception."""
    files: list[RuleFile] = []
    issues: list[InputProblem] = []
    for path in rule_files(folder):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            issues.append(_error(path, f"not UTF-8 at byte {e.start}", "not-utf8"))
            continue
        entry = RuleFile(path, text, hashlib.sha256(raw).hexdigest())
        try:
            collection = SigmaCollection.from_dicts(
                list(yaml.load_all(text, Loader=YAML_LOADER)),
                collect_errors=True,
                source=SigmaRuleLocation(path),
                resolve_references=False,
            )
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            issues.append(_error(path, f"YAML: {e}".replace("\n", " "), "yaml", line))
            continue
        except SigmaError as e:
            issues.append(_error_issue(path, text, e, None))
            continue
        for rule in collection.rules:
            rule_id = str(rule.id) if rule.id else None
            for error in rule.errors:
                issues.append(_error_issue(path, text, error, rule_id))
            if not rule.errors and isinstance(rule, SigmaRule | SigmaCorrelationRule):
                entry.rules.append(rule)
        files.append(entry)
    return files, issues


def _error_issue(path: Path, text: str, error: SigmaError, rule_id: str | None) -> InputProblem:
    line = error.source.line if error.source is not None else None
    message = getattr(error, "args", [str(error)])[0] if error.args else str(error)
    if line is None:
        line = line_of(text, "detection:") or 1
    return _error(path, f"{type(error).__name__}: {message}", "sigma", line, rule_id)


def validate_rules(files: list[RuleFile]) -> list[InputProblem]:
    """pySigma's validators (offline ones) over all rules, each issue placed at a line."""
    chosen = [cls for name, cls in core_validators.items() if name not in SKIPPED_VALIDATORS]
    validator = SigmaValidator(chosen)
    by_rule = {id(rule): f for f in files for rule in f.rules}
    issues: list[InputProblem] = []
    rules = cast(Iterator[SigmaRule], iter([r for f in files for r in f.rules]))
    for issue in validator.validate_rules(rules):
        level = issue.severity.name.lower()
        for rule in issue.rules:
            where = by_rule.get(id(rule))
            if where is None:
                continue
            location = Location(
                str(where.path),
                line_of(where.text, _needle(issue)) or 1,
                str(rule.id) if rule.id else None,
            )
            message = f"{type(issue).__name__}: {issue.description}{_details(issue)}"
            issues.append(InputProblem(location, VALIDATOR_LEVELS[level], message, level))
    return issues


def _issue_values(issue: SigmaValidationIssue) -> list[tuple[str, Any]]:
    return [
        (f.name, getattr(issue, f.name))
        for f in dataclasses.fields(issue)
        if f.name not in ("rules", "severity", "description")
    ]


def _needle(issue: SigmaValidationIssue) -> str | None:
    """Text to look for in the file to place the issue: its value, else the section it is about."""
    for _, value in _issue_values(issue):
        if isinstance(value, SigmaLogSource):
            return "logsource:"
        if isinstance(value, str | SigmaString):
            text = str(value).split("\n")[0].strip("*")[:80]
            if len(text) >= 3:
                return text
    return "detection:"


def _details(issue: SigmaValidationIssue) -> str:
    values = [f"{name}={value}" for name, value in _issue_values(issue) if value is not None]
    return f" ({', '.join(values)})" if values else ""


def _collection(files: list[RuleFile]) -> SigmaCollection:
    collection = SigmaCollection([r for f in files for r in f.rules])
    collection.resolve_rule_references()
    return collection


def convert_rules(files: list[RuleFile]) -> list[ConvertedRule]:
    """Every rule to DuckDB SQL; a rule that cannot be converted keeps the reason instead."""
    where = {id(rule): f for f in files for rule in f.rules}
    backend = DuckDBBackend(vigil_pipeline())
    out: list[ConvertedRule] = []
    try:
        ordered = _collection(files).rules
    except SigmaError as e:
        raise RuleError(f"rule references cannot be resolved: {e}") from e
    for rule in ordered:
        source = where.get(id(rule))
        path, sha = (str(source.path), source.sha) if source else ("", "")
        if isinstance(rule, SigmaCorrelationRule):
            out.append(_convert_correlation(backend, rule, path, sha))
        elif isinstance(rule, SigmaRule):
            out.append(_convert_rule(backend, rule, path, sha))
    return out


def _convert_rule(backend: DuckDBBackend, rule: SigmaRule, path: str, sha: str) -> ConvertedRule:
    kind = "rule" if rule._output else "reference"
    mapping = mapping_for(rule.logsource)
    logsource = rule.logsource
    if mapping is None:
        described = ", ".join(
            f"{k}={v}"
            for k, v in (
                ("product", logsource.product),
                ("category", logsource.category),
                ("service", logsource.service),
            )
            if v
        )
        return ConvertedRule(rule, path, sha, kind, "", error=f"log source not mapped: {described}")
    converted = ConvertedRule(rule, path, sha, kind, mapping.key)
    try:
        backend.convert_rule(rule)
        queries = [str(q) for q in rule.get_conversion_result()]
        converted.prefilter = rule_tree(rule)
    except (SigmaError, NotImplementedError, ValueError, TypeError, KeyError) as e:
        converted.error = f"{type(e).__name__}: {e}"
        return converted
    if not queries:
        converted.error = "the rule converted to no query"
        return converted
    converted.sql = queries[0] if len(queries) == 1 else " OR ".join(f"({q})" for q in queries)
    converted.columns = sorted(referenced_columns(converted.sql))
    return converted


def _convert_correlation(
    backend: DuckDBBackend, rule: SigmaCorrelationRule, path: str, sha: str
) -> ConvertedRule:
    converted = ConvertedRule(rule, path, sha, "correlation", CORRELATION_GROUP)
    try:
        queries = [str(q) for q in backend.convert_correlation_rule(rule)]
    except (SigmaError, NotImplementedError, ValueError, TypeError, KeyError, AttributeError) as e:
        converted.error = f"{type(e).__name__}: {e}"
        return converted
    if not queries:
        converted.error = "the correlation converted to no query"
        return converted
    converted.sql = queries[0]
    converted.columns = sorted(referenced_columns(converted.sql))
    return converted


def check_rules(folder: Path) -> list[InputProblem]:
    """Everything wrong with a folder: parse errors, validator issues, conversion failures."""
    files, issues = load_rules(folder)
    issues += validate_rules(files)
    for converted in convert_rules(files):
        if converted.error:
            text = next((f.text for f in files if str(f.path) == converted.path), "")
            section = "logsource:" if "log source" in converted.error else "detection:"
            message = f"cannot convert: {converted.error}"
            line = line_of(text, section) or 1
            issues.append(_error(converted.path, message, "convert", line, converted.id))
    return sorted(issues, key=lambda i: (i.location.source, i.location.line or 0, i.message))


def attack_tags(rule: AnyRule) -> list[str]:
    return [f"{t.namespace}.{t.name}" for t in rule.tags]


def rule_level(rule: AnyRule) -> str:
    return rule.level.name.lower() if rule.level is not None else "medium"


def rule_status(rule: AnyRule) -> str:
    return rule.status.name.lower() if rule.status is not None else "experimental"


def logsource_of(rule: AnyRule) -> dict[str, str]:
    if not isinstance(rule, SigmaRule):
        return {}
    ls = rule.logsource
    return {
        k: v
        for k, v in (("product", ls.product), ("category", ls.category), ("service", ls.service))
        if v
    }


def describe(converted: Iterable[ConvertedRule]) -> dict[str, int]:
    """Counts for a report: rules, converted, failed."""
    items = list(converted)
    ok = sum(1 for c in items if c.sql is not None)
    return {"rules": len(items), "converted": ok, "failed": len(items) - ok}
