"""
Every error we raise on purpose:
* CustodesError
  x ConfigError        settings, custodes.yaml, policy.yaml or a rule file is wrong
  x ParseError         one record cannot be read; normalise turns it into a ParseFailure
  x QueryError         a search expression or query is malformed
  x RuleError          one rule cannot be loaded; reported together with the others
  x LedgerError        the evidence ledger cannot be read or written
  x NotFound           status 404
  x PermissionDenied   status 403
  x Overloaded         status 429: the service pushes back instead of dropping
"""

from __future__ import annotations


class CustodesError(Exception):
    """Root of every error Custodes raises on purpose."""

    status = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class ConfigError(CustodesError):
    """Settings or a configuration file is wrong."""

    status = 400

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.key = key


class ParseError(CustodesError):
    """One record cannot be read by a parser."""

    status = 400


class QueryError(CustodesError):
    """A search expression or query is malformed."""

    status = 400


class RuleError(CustodesError):
    """One detection rule cannot be loaded or compiled."""

    status = 400

    def __init__(self, reason: str, *, path: str | None = None, rule_id: str | None = None) -> None:
        super().__init__(f"{path or rule_id or 'rule'}: {reason}")
        self.reason = reason
        self.path = path
        self.rule_id = rule_id


class LedgerError(CustodesError):
    """The evidence ledger cannot be read or written."""


class NotFound(CustodesError):
    """Something asked for does not exist."""

    status = 404

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id!r} not found")
        self.kind = kind
        self.id = id


class PermissionDenied(CustodesError):
    """The actor may not do this."""

    status = 403


class Overloaded(CustodesError):
    """The service is full; the sender should retry later."""

    status = 429

    def __init__(self, message: str = "overloaded", *, retry_after_secs: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_secs = retry_after_secs
