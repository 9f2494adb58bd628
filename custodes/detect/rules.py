"""Sigma rule files -> a RuleSet (pySigma rules, correlation rules and the errors, per file)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.rule import SigmaRule

from custodes.errors import RuleError

RULE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What an alert says about the rule that raised it (DRL 1.1: `author` always travels)."""

    id: str
    title: str
    level: str = ""
    tags: tuple[str, ...] = ()
    author: str = ""
    description: str = ""
    logsource: str = ""
    name: str = ""
    path: str = ""

    @classmethod
    def from_rule(cls, rule: SigmaRule | SigmaCorrelationRule) -> RuleInfo:
        """The facts of a pySigma rule."""
        source = rule.source.path if rule.source is not None else None
        logsource = ""
        if isinstance(rule, SigmaRule):
            parts = (rule.logsource.product, rule.logsource.category, rule.logsource.service)
            logsource = "/".join(part or "" for part in parts)
        return cls(
            id=str(rule.id) if rule.id else (rule.name or rule.title),
            title=rule.title,
            level=rule.level.name.lower() if rule.level else "",
            tags=tuple(str(tag) for tag in rule.tags),
            author=rule.author or "",
            description=(rule.description or "").strip(),
            logsource=logsource,
            name=rule.name or "",
            path=str(source) if source else "",
        )


@dataclass
class RuleSet:
    """Detection rules, correlation rules (for the alerts stage) and the files that failed."""

    rules: list[SigmaRule] = field(default_factory=list)
    correlations: list[SigmaCorrelationRule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """The Sigma rule files under the given files and folders, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise RuleError("no such file or folder", path=str(path))
    return sorted(set(found))


def load_rules(paths: Sequence[Path | str], *, collect_errors: bool = True) -> RuleSet:
    """Load every rule under `paths`; a broken file becomes a RuleError, the others still load.

    With `collect_errors=False` the first broken file raises its RuleError instead.
    """
    rule_set = RuleSet()
    for path in rule_files(Path(p) for p in paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            add_error(rule_set, RuleError(f"cannot read: {error}", path=str(path)), collect_errors)
            continue
        add_collection(rule_set, text, str(path), collect_errors)
    resolve_correlations(rule_set, collect_errors)
    return rule_set


def load_rules_from_yaml(text: str, *, collect_errors: bool = True) -> RuleSet:
    """Rules from YAML text (one or more documents), as load_rules reads a file."""
    rule_set = RuleSet()
    add_collection(rule_set, text, "<yaml>", collect_errors)
    resolve_correlations(rule_set, collect_errors)
    return rule_set


def add_collection(rule_set: RuleSet, text: str, path: str, collect_errors: bool) -> None:
    """Parse one file's documents into the rule set, recording what fails."""
    try:
        location = SigmaRuleLocation(Path(path))
        collection = SigmaCollection.from_yaml(text, collect_errors=True, source=location)
    except (SigmaError, yaml.YAMLError) as error:
        add_error(rule_set, RuleError(one_line(error), path=path), collect_errors)
        return
    per_rule = {id(problem) for rule in collection.rules for problem in rule.errors}
    for problem in collection.errors:
        if id(problem) not in per_rule:  # pySigma lists a rule's errors in both places
            add_error(rule_set, RuleError(one_line(problem), path=path), collect_errors)
    for rule in collection.rules:
        if rule.errors:
            rule_id = str(rule.id) if rule.id else None
            for problem in rule.errors:
                reason = one_line(problem)
                add_error(rule_set, RuleError(reason, path=path, rule_id=rule_id), collect_errors)
            continue
        if isinstance(rule, SigmaCorrelationRule):
            rule_set.correlations.append(rule)
        elif isinstance(rule, SigmaRule):
            rule_set.rules.append(rule)


def resolve_correlations(rule_set: RuleSet, collect_errors: bool) -> None:
    """Point each correlation rule at the rules it names; one that names none is an error."""
    if not rule_set.correlations:
        return
    collection = SigmaCollection([*rule_set.rules, *rule_set.correlations])
    try:
        collection.resolve_rule_references()
    except SigmaError as error:
        add_error(rule_set, RuleError(one_line(error), path="<correlations>"), collect_errors)


def add_error(rule_set: RuleSet, error: RuleError, collect_errors: bool) -> None:
    """Record an error, or raise it when errors are not collected."""
    if not collect_errors:
        raise error
    rule_set.errors.append(error)


def one_line(error: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__
