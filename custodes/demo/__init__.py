"""An agency in a box: a synthetic organisation, its telemetry, planted cases, ground truth."""

from custodes.demo.check import CheckReport, Verdict, check, load_truth
from custodes.demo.generate import DemoSettings, generate
from custodes.demo.run import RunningDemo, RunSettings, running_demo, summary_lines

__all__ = [
    "CheckReport",
    "DemoSettings",
    "RunSettings",
    "RunningDemo",
    "Verdict",
    "check",
    "generate",
    "load_truth",
    "running_demo",
    "summary_lines",
]
