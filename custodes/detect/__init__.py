"""Event batches -> detections: Sigma rules loaded, mapped, compiled and matched on columns."""

from __future__ import annotations

from custodes.detect.alerts import hits_to_alerts
from custodes.detect.cache import compile_rules, load_matcher
from custodes.detect.compile import CompiledRule, Test, compile_rule
from custodes.detect.correlate import CorrelationMatch, Correlator
from custodes.detect.correlations import Correlation, load_correlations
from custodes.detect.engine import Detection, hunt_and_store, open_detection
from custodes.detect.levels import DEFAULT_ALERT_MIN_LEVEL, configured_min_level, raises_alert
from custodes.detect.matcher import Hit, Matcher
from custodes.detect.rules import RuleInfo, RuleSet, load_rules, load_rules_from_yaml

__all__ = [
    "DEFAULT_ALERT_MIN_LEVEL",
    "CompiledRule",
    "Correlation",
    "CorrelationMatch",
    "Correlator",
    "Detection",
    "Hit",
    "Matcher",
    "RuleInfo",
    "RuleSet",
    "Test",
    "compile_rule",
    "compile_rules",
    "configured_min_level",
    "hits_to_alerts",
    "hunt_and_store",
    "load_correlations",
    "load_matcher",
    "load_rules",
    "load_rules_from_yaml",
    "open_detection",
    "raises_alert",
]
