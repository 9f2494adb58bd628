"""Which rules raise alerts: Sigma's levels in order and the minimum level that alerts.

Rules below the minimum (by default `informational` ones, such as SigmaHQ's "User Logoff
Event") still match: their hits feed correlations and a hunt with a lower `--min-level` shows
them, but they raise no alert on their own. Every place that turns hits into alerts (ingest,
`custodes hunt`, `custodes scale hunt`) asks `raises_alert`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import ValidationError

from custodes.errors import ConfigError
from custodes.store.alerts import LEVELS

AlertLevel = Literal["informational", "low", "medium", "high", "critical"]

#: Below `low` means hunting and correlation input, not an alert (as Hayabusa, Chainsaw do).
DEFAULT_ALERT_MIN_LEVEL: AlertLevel = "low"

#: How a rule without a level is ranked (as its correlation alerts are labelled).
UNSET_LEVEL = "medium"


def level_rank(level: str) -> int:
    """A level's place among LEVELS; a rule without a known level ranks as medium."""
    name = level.lower()
    return LEVELS.index(name if name in LEVELS else UNSET_LEVEL)


def raises_alert(level: str, min_level: str) -> bool:
    """Whether a rule of `level` raises alerts when alerts start at `min_level`."""
    return level_rank(level) >= level_rank(min_level)


def check_min_level(text: str, *, key: str = "alert_min_level") -> str:
    """A valid minimum alert level (lower case), or a ConfigError naming `key`."""
    if text.lower() not in LEVELS:
        raise ConfigError(f"{key}: unknown level {text!r}: use one of {', '.join(LEVELS)}", key=key)
    return text.lower()


def configured_min_level(min_level: str | None = None) -> str:
    """`min_level` when given, else the `alert_min_level` setting (CUSTODES_ALERT_MIN_LEVEL)."""
    if min_level is not None:
        return check_min_level(min_level)
    from custodes.config import Settings

    try:
        configured = Settings().alert_min_level
    except ValidationError as error:
        problem = error.errors()[0]
        key = ".".join(str(part) for part in problem["loc"])
        message = f"CUSTODES_{key.upper()}: {problem['msg']}"
        raise ConfigError(message, key=key) from None
    return check_min_level(configured, key="CUSTODES_ALERT_MIN_LEVEL")


def quiet_rules_note(levels: Iterable[str], min_level: str | None = None) -> str:
    """For a hunt's summary: how many rules raise no alert at the minimum level, and how to see
    their hits (empty when every rule alerts)."""
    level = configured_min_level(min_level)
    quiet = sum(not raises_alert(rule_level, level) for rule_level in levels)
    if not quiet:
        return ""
    return f"; {quiet} rules below {level} raise none (--min-level informational shows them)"
