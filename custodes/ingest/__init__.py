"""Bytes in: sources turn files and network input into raw records."""

from custodes.ingest.bulk import parse_bulk
from custodes.ingest.files import FileReport, detect_format, discover, read_batches, read_file
from custodes.ingest.http import ndjson_records
from custodes.ingest.intake import Intake, Receipt
from custodes.ingest.syslog import SyslogFramer, SyslogSource
from custodes.ingest.tail import FileTail

__all__ = [
    "FileReport",
    "FileTail",
    "Intake",
    "Receipt",
    "SyslogFramer",
    "SyslogSource",
    "detect_format",
    "discover",
    "ndjson_records",
    "parse_bulk",
    "read_batches",
    "read_file",
]
