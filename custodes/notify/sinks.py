"""Where alert notifications go: a webhook (JSON), email over SMTP, a syslog forward.

Each sink is built from its `custodes.yaml` entry (`sinks: {name: {type: ..., ...}}`) and has one
method, `send(payload)`, that raises `DeliveryError` when the other side did not take it; the
notifier retries with backoff and keeps a dead-letter record of what never got through.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Annotated, Any, Literal, Protocol

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from custodes.errors import CustodesError

#: RFC 5424 severities for alert levels.
SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "informational": 6}
SYSLOG_FACILITIES = {f"local{n}": 16 + n for n in range(8)} | {"security": 13, "auth": 4}


class DeliveryError(CustodesError):
    """A sink could not hand a notification over (refused, unreachable, timed out)."""

    status = 502


class Sink(Protocol):
    """Delivers one alert notification; raises DeliveryError if it was not taken."""

    name: str

    def send(self, payload: Mapping[str, Any]) -> None:
        """Deliver `payload` (an alert as JSON-ready data)."""
        ...


class SinkConfig(BaseModel):
    """Fields every sink entry shares."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    timeout_secs: Annotated[float, Field(gt=0)] = 10.0


class WebhookConfig(SinkConfig):
    """`{type: webhook, url: https://..., headers: {...}}`: POST the alert as JSON."""

    type: Literal["webhook"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    headers: dict[str, str] = {}


class EmailConfig(SinkConfig):
    """`{type: email, host, port, from, to: [...]}`: one message per alert over SMTP."""

    type: Literal["email"]
    host: str = "127.0.0.1"
    port: Annotated[int, Field(gt=0, lt=65536)] = 25
    sender: str = Field(alias="from")
    to: Annotated[list[str], Field(min_length=1)]
    starttls: bool = False
    username: str | None = None
    password: str | None = None


class SyslogConfig(SinkConfig):
    """`{type: syslog, address: udp:host:port}`: an RFC 5424 line whose message is the JSON."""

    type: Literal["syslog"]
    address: Annotated[str, Field(pattern=r"^(udp|tcp):.+:\d+$")]
    facility: str = "local4"

    @field_validator("facility")
    @classmethod
    def known_facility(cls, value: str) -> str:
        """One of local0..local7, security, auth."""
        if value not in SYSLOG_FACILITIES:
            raise ValueError(
                f"unknown facility {value!r}: use one of {', '.join(SYSLOG_FACILITIES)}"
            )
        return value

    app_name: str = "custodes"


def subject_of(payload: Mapping[str, Any]) -> str:
    """`[Custodes] HIGH: <title> on <host> (<user>)`."""
    where = f" on {payload['host_name']}" if payload.get("host_name") else ""
    who = f" ({payload['user_name']})" if payload.get("user_name") else ""
    level = str(payload.get("level", "")).upper()
    return f"[Custodes] {level}: {payload.get('title', '')}{where}{who}"


class WebhookSink:
    """POSTs the alert as JSON; any answer but 2xx is a failure."""

    def __init__(self, name: str, config: WebhookConfig) -> None:
        self.name = name
        self.config = config

    def send(self, payload: Mapping[str, Any]) -> None:
        """POST `payload` to the URL."""
        headers = {"content-type": "application/json", **self.config.headers}
        try:
            response = httpx.post(
                self.config.url,
                content=orjson.dumps(payload),
                headers=headers,
                timeout=self.config.timeout_secs,
            )
        except httpx.HTTPError as error:
            raise DeliveryError(f"webhook {self.name}: {type(error).__name__}: {error}") from None
        if not response.is_success:
            raise DeliveryError(f"webhook {self.name}: HTTP {response.status_code}")


class EmailSink:
    """Sends one plain-text message per alert, with the alert as JSON below the summary."""

    def __init__(self, name: str, config: EmailConfig) -> None:
        self.name = name
        self.config = config

    def message(self, payload: Mapping[str, Any]) -> EmailMessage:
        """The message for one alert."""
        message = EmailMessage()
        message["Subject"] = subject_of(payload)
        message["From"] = self.config.sender
        message["To"] = ", ".join(self.config.to)
        lines = [
            subject_of(payload).removeprefix("[Custodes] "),
            "",
            f"Rule: {payload.get('rule_id', '')}",
            f"Events: {payload.get('count', '')}",
            f"First seen: {payload.get('first_seen_at', '')}",
            f"Last seen: {payload.get('last_seen_at', '')}",
            f"Tags: {', '.join(payload.get('tags', []))}",
            "",
            orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode(),
        ]
        message.set_content("\n".join(lines))
        return message

    def send(self, payload: Mapping[str, Any]) -> None:
        """Hand the message to the SMTP server."""
        try:
            with smtplib.SMTP(
                self.config.host, self.config.port, timeout=self.config.timeout_secs
            ) as smtp:
                if self.config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.config.username:
                    smtp.login(self.config.username, self.config.password or "")
                smtp.send_message(self.message(payload))
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"email {self.name}: {type(error).__name__}: {error}") from None


class SyslogSink:
    """Forwards the alert as one RFC 5424 message (UDP datagram, or octet-counted over TCP)."""

    def __init__(self, name: str, config: SyslogConfig) -> None:
        self.name = name
        self.config = config
        transport, _, rest = config.address.partition(":")
        host, _, port = rest.rpartition(":")
        self.transport = transport
        self.target = (host.strip("[]"), int(port))

    def line(self, payload: Mapping[str, Any], *, now: datetime | None = None) -> bytes:
        """The RFC 5424 message: PRI from facility and level, MSGID `alert`, JSON message."""
        severity = SYSLOG_SEVERITY.get(str(payload.get("level", "")), 5)
        priority = SYSLOG_FACILITIES[self.config.facility] * 8 + severity
        stamp = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
        host = socket.gethostname() or "-"
        header = f"<{priority}>1 {stamp} {host} {self.config.app_name} - alert -"
        return header.encode() + b" " + orjson.dumps(payload)

    def send(self, payload: Mapping[str, Any]) -> None:
        """Send the message to the collector."""
        data = self.line(payload)
        try:
            if self.transport == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.sendto(data, self.target)
                return
            with socket.create_connection(self.target, timeout=self.config.timeout_secs) as tcp:
                tcp.sendall(str(len(data)).encode() + b" " + data)
        except OSError as error:
            raise DeliveryError(f"syslog {self.name}: {type(error).__name__}: {error}") from None


def webhook(name: str, options: Mapping[str, Any]) -> WebhookSink:
    """A webhook sink from its config entry."""
    return WebhookSink(name, WebhookConfig.model_validate(options))


def email(name: str, options: Mapping[str, Any]) -> EmailSink:
    """An email sink from its config entry."""
    return EmailSink(name, EmailConfig.model_validate(options))


def syslog(name: str, options: Mapping[str, Any]) -> SyslogSink:
    """A syslog-forward sink from its config entry."""
    return SyslogSink(name, SyslogConfig.model_validate(options))


SinkFactory = Callable[[str, Mapping[str, Any]], Sink]
BUILTIN_SINKS: dict[str, SinkFactory] = {"webhook": webhook, "email": email, "syslog": syslog}
