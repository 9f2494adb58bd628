"""The public contract for plugins: every hook Custodes calls, with what it expects back."""

from __future__ import annotations

from typing import Any

# mypy: disable-error-code="empty-body"
import pluggy

hookspec = pluggy.HookspecMarker("custodes")
hookimpl = pluggy.HookimplMarker("custodes")


@hookspec
def register_parsers() -> list[Any]:
    """Parsers (`custodes.normalise.Parser`), tried in order on every raw record."""


@hookspec
def register_sources() -> dict[str, Any]:
    """Source types by name (`type:` in custodes.yaml), each a factory of a source."""


@hookspec
def register_rule_sources() -> dict[str, Any]:
    """Rule source types by name, each a factory yielding rule files or YAML texts."""


@hookspec
def register_sinks() -> dict[str, Any]:
    """Alert sink types by name (webhook, email, syslog forward), each a factory of a sink."""


@hookspec
def register_detectors() -> list[Any]:
    """Detectors run on each stored batch besides the Sigma rules."""


@hookspec
def track_action(action: str, actor: str | None, details: dict[str, Any]) -> None:
    """Told of every action and drop a stage reports (for counters and the audit log)."""
