"""Raw records -> event batches: one parser per format, tried in order."""

from __future__ import annotations

from custodes.normalise.access_log import AccessLogParser
from custodes.normalise.auditd import AuditdParser
from custodes.normalise.authlog import AuthlogParser
from custodes.normalise.batch import build_batch, empty_batch
from custodes.normalise.cbs import CbsParser
from custodes.normalise.cef import CefParser
from custodes.normalise.eslogger import EsloggerParser
from custodes.normalise.evtx import EvtxParser
from custodes.normalise.iis import IisParser
from custodes.normalise.json import JsonFlavour, JsonParser
from custodes.normalise.logcat import LogcatParser
from custodes.normalise.netlogon import NetlogonParser
from custodes.normalise.normaliser import UNSUPPORTED, Normaliser, Parser
from custodes.normalise.osquery import OsqueryParser
from custodes.normalise.rfc3164 import Rfc3164Parser
from custodes.normalise.rfc5424 import Rfc5424Parser
from custodes.normalise.sysmon_linux import SysmonLinuxParser
from custodes.normalise.zeek import ZeekJsonParser
from custodes.normalise.zeek_tsv import ZeekTsvParser
from custodes.plugins.hookspecs import hookimpl

__all__ = [
    "UNSUPPORTED",
    "AccessLogParser",
    "AuditdParser",
    "AuthlogParser",
    "CbsParser",
    "CefParser",
    "EsloggerParser",
    "EvtxParser",
    "IisParser",
    "JsonFlavour",
    "JsonParser",
    "LogcatParser",
    "NetlogonParser",
    "Normaliser",
    "OsqueryParser",
    "Parser",
    "Rfc3164Parser",
    "Rfc5424Parser",
    "SysmonLinuxParser",
    "ZeekJsonParser",
    "ZeekTsvParser",
    "build_batch",
    "builtin_parsers",
    "empty_batch",
    "register_parsers",
]


def builtin_parsers() -> list[Parser]:
    """Every built-in parser in the order they are tried: most specific first.

    Formats recognised by their content come before the ones they could be mistaken for:
    Sysmon/audit/CEF records before syslog, which they often ride in. JSON flavours (Windows
    events, grouped audit events, Zeek, osquery, eslogger) are recognised by `JsonParser` from
    their keys after one decode; each is still chosen directly by its name as a `format`.
    """
    auditd = AuditdParser()
    json_flavours = (EvtxParser(), auditd, ZeekJsonParser(), OsqueryParser(), EsloggerParser())
    return [
        SysmonLinuxParser(),
        auditd,
        CefParser(),
        JsonParser(json_flavours),
        ZeekTsvParser(),
        IisParser(),
        Rfc5424Parser(),
        AuthlogParser(),
        Rfc3164Parser(),
        AccessLogParser(),
        NetlogonParser(),
        CbsParser(),
        LogcatParser(),
    ]


@hookimpl
def register_parsers() -> list[Parser]:
    """The built-in parsers, most specific first; generic JSON last of the JSON family."""
    return builtin_parsers()
