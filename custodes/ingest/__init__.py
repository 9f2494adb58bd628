"""Bytes in: sources turn files and network input into raw records."""

from custodes.ingest.files import FileReport, detect_format, discover, read_file

__all__ = ["FileReport", "detect_format", "discover", "read_file"]
