"""Posture: accounts, privileged access and mobile devices against the roster and inventory."""

from custodes.posture.evaluate import evaluate
from custodes.posture.finding import CHECKS, CheckInfo, Finding
from custodes.posture.reference import ImportRequest, ImportResult, import_reference
from custodes.posture.settings import PostureSettings, load_posture_settings
from custodes.posture.sources import ReferenceImportError

__all__ = [
    "CHECKS",
    "CheckInfo",
    "Finding",
    "ImportRequest",
    "ImportResult",
    "PostureSettings",
    "ReferenceImportError",
    "evaluate",
    "import_reference",
    "load_posture_settings",
]
