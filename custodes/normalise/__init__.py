"""Raw records -> event batches: one parser per format, tried in order."""

from __future__ import annotations

from custodes.normalise.auditd import AuditdParser
from custodes.normalise.authlog import AuthlogParser
from custodes.normalise.batch import build_batch, empty_batch
from custodes.normalise.evtx import EvtxParser
from custodes.normalise.json import JsonParser
from custodes.normalise.normaliser import UNSUPPORTED, Normaliser, Parser
from custodes.normalise.rfc3164 import Rfc3164Parser
from custodes.normalise.rfc5424 import Rfc5424Parser
from custodes.plugins.hookspecs import hookimpl

__all__ = [
    "UNSUPPORTED",
    "AuditdParser",
    "AuthlogParser",
    "Rfc3164Parser",
    "Rfc5424Parser",
    "EvtxParser",
    "JsonParser",
    "Normaliser",
    "Parser",
    "build_batch",
    "empty_batch",
    "register_parsers",
]


@hookimpl
def register_parsers() -> list[Parser]:
    """The built-in parsers, most specific first; generic JSON last of the JSON family."""
    return [
        EvtxParser(),
        AuditdParser(),
        JsonParser(),
        Rfc5424Parser(),
        AuthlogParser(),
        Rfc3164Parser(),
    ]
