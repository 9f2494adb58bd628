"""Linux auth.log / secure: BSD syslog lines of sshd, sudo, su, PAM and account tools.

The same line format as `rfc3164`; this parser exists so a file known to be an auth log is
named so (`event.dataset` = `authlog`). What each message means comes from
`custodes.normalise.auth`, which every syslog flavour shares.
"""

from __future__ import annotations

from custodes.events import RawRecord
from custodes.normalise.rfc3164 import Rfc3164Parser


class AuthlogParser(Rfc3164Parser):
    """A line of /var/log/auth.log or /var/log/secure."""

    name = "authlog"
    dataset = "authlog"
    first_bytes: frozenset[int] = frozenset()  # chosen by the file's format only

    def accepts(self, record: RawRecord) -> bool:
        """Never by guess: `rfc3164` reads these lines the same way when the file is unnamed."""
        return False
