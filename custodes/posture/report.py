"""The audit report: every finding class with its counts, trend over runs, items and evidence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from custodes.posture.finding import CHECKS
from custodes.posture.store import list_findings, list_runs
from custodes.store.control import Control

TEMPLATES = Path(__file__).resolve().parent / "templates"
AREAS = {
    "accounts": "Accounts of departed staff, dormant and ownerless accounts",
    "privileged": "Privileged access",
    "devices": "Mobile devices",
}


def build_report(control: Control, *, now: datetime) -> dict[str, Any]:
    """The report as plain data (what the JSON format, the HTML and the web page show)."""
    findings = [finding.to_dict() for finding in list_findings(control)]
    runs = list_runs(control)
    classes = []
    for name, info in CHECKS.items():
        items = [finding for finding in findings if finding["check"] == name]
        classes.append(
            {
                "check": name,
                "title": info.title,
                "level": info.level,
                "area": info.area,
                "open": len(items),
                "trend": [run.counts.get(name, 0) for run in runs],
                "items": items,
            }
        )
    return {
        "generated_at": now.isoformat(),
        "areas": AREAS,
        "runs": [
            {
                "id": run.run_id,
                "ran_at": run.ran_at.isoformat(),
                "total": sum(run.counts.values()),
                "opened": run.opened,
                "resolved": run.resolved,
                "counts": run.counts,
            }
            for run in runs
        ],
        "open": len(findings),
        "classes": classes,
    }


def chart_data(report: dict[str, Any]) -> dict[str, Any]:
    """What the page's chart needs: areas, runs, and each class's area and trend (no items)."""
    return {
        "areas": report["areas"],
        "runs": report["runs"],
        "classes": [{"area": item["area"], "trend": item["trend"]} for item in report["classes"]],
    }


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (an auditor's document, printable)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return environment.get_template("report.html").render(report=report)


def render_pdf(report: dict[str, Any]) -> bytes:
    """The HTML report printed to PDF (WeasyPrint: no browser, fonts from the system)."""
    import weasyprint  # loads pango: only when a PDF is asked for

    document: bytes = weasyprint.HTML(string=render_html(report)).write_pdf()
    return document
