"""An agency in a box: a synthetic organisation, its telemetry, planted cases, ground truth."""

from custodes.demo.check import CheckReport, Verdict, check, load_truth
from custodes.demo.generate import DemoSettings, generate

__all__ = ["CheckReport", "DemoSettings", "Verdict", "check", "generate", "load_truth"]
