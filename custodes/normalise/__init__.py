"""Raw records -> event batches: one parser per format, tried in order."""

from __future__ import annotations

from custodes.normalise.batch import build_batch, empty_batch
from custodes.normalise.evtx import EvtxParser
from custodes.normalise.json import JsonParser
from custodes.normalise.normaliser import UNSUPPORTED, Normaliser, Parser
from custodes.plugins.hookspecs import hookimpl

__all__ = [
    "UNSUPPORTED",
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
    return [EvtxParser(), JsonParser()]
