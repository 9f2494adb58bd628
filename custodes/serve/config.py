"""`custodes.yaml`: what the service listens on and how it batches, validated at start.

```yaml
http: {listen: "127.0.0.1:8080"}
control_url: postgresql+psycopg://custodes:secret@db.example/custodes  # default: SQLite
alert_min_level: low  # informational rules feed correlations and hunts, raise no alert
batch: {max_events: 5000, max_wait_secs: 0.02, queue_max_events: 200000}
sources:
  firewalls: {type: syslog, listen: "udp:127.0.0.1:5514"}
  servers: {type: syslog, listen: "tcp:0.0.0.0:6514"}
  secure: {type: syslog, listen: "tls:0.0.0.0:6515", cert_file: server.pem, key_file: server.key}
  auth_log: {type: tail, path: /var/log/auth.log}
```

Every error names the bad key (`sources.firewalls.listen: ...`). docs/settings.md lists every key.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from custodes.errors import ConfigError

LISTEN_SCHEMES = ("udp", "tcp", "tls")


def split_address(text: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:514`) -> (host, port); ValueError if malformed."""
    host, separator, port = text.rpartition(":")
    if not separator or not port.isdigit() or not host:
        raise ValueError(f"expected host:port, got {text!r}")
    number = int(port)
    if number > 65535:
        raise ValueError(f"port {number} out of range")
    return host.strip("[]"), number


class Section(BaseModel):
    """A config section: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpConfig(Section):
    """The HTTP server: API, web UI, `/ingest` and the Elasticsearch-compatible `_bulk`."""

    listen: str = "127.0.0.1:8080"

    @field_validator("listen")
    @classmethod
    def check_listen(cls, value: str) -> str:
        split_address(value)
        return value


class BatchConfig(Section):
    """How records from every source are grouped and committed."""

    max_events: Annotated[int, Field(gt=0)] = 5000
    max_wait_secs: Annotated[float, Field(ge=0, le=10)] = 0.02
    queue_max_events: Annotated[int, Field(gt=0)] = 200_000
    flush_interval_secs: Annotated[float, Field(gt=0)] = 30.0


class SyslogSourceConfig(Section):
    """Syslog over `udp:`, `tcp:` or `tls:` HOST:PORT (port 0: any free port)."""

    type: Literal["syslog"]
    listen: str
    framing: Literal["auto", "lf"] = "auto"
    format: str | None = None
    max_message_bytes: Annotated[int, Field(gt=0)] = 1 << 20
    cert_file: Path | None = None
    key_file: Path | None = None
    ca_file: Path | None = None

    @field_validator("listen")
    @classmethod
    def check_listen(cls, value: str) -> str:
        scheme, separator, address = value.partition(":")
        if not separator or scheme not in LISTEN_SCHEMES:
            raise ValueError(
                f"expected udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT, got {value!r}"
            )
        split_address(address)
        return value

    @model_validator(mode="after")
    def check_tls(self) -> SyslogSourceConfig:
        if self.scheme == "tls" and (self.cert_file is None or self.key_file is None):
            raise ValueError("a tls: listener needs cert_file and key_file")
        return self

    @property
    def scheme(self) -> Literal["udp", "tcp", "tls"]:
        """udp, tcp or tls."""
        scheme = self.listen.partition(":")[0]
        assert scheme in ("udp", "tcp", "tls")
        return scheme  # type: ignore[return-value]

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) to bind."""
        return split_address(self.listen.partition(":")[2])


class TailSourceConfig(Section):
    """A local log file followed as it grows, across rotation; resumes where it stopped."""

    type: Literal["tail"]
    path: Path
    format: str | None = None
    start_at: Literal["beginning", "end"] = "beginning"
    poll_interval_secs: Annotated[float, Field(gt=0)] = 0.5
    max_message_bytes: Annotated[int, Field(gt=0)] = 1 << 20


SourceConfig = Annotated[SyslogSourceConfig | TailSourceConfig, Field(discriminator="type")]


class ScheduleConfig(Section):
    """Jobs the service runs itself (custodes.serve.jobs): posture checks, UEBA scoring."""

    posture_every_secs: Annotated[float, Field(ge=0)] = 3600.0  # 0: never
    ueba_at: time | None = time(1, 30)  # daily, UTC; null: never
    ueba_every_secs: Annotated[float, Field(gt=0)] | None = None  # instead of daily at ueba_at
    ueba_threshold: Annotated[float, Field(gt=0)] = 11.0  # custodes.ueba.ALERT_SCORE

    @field_validator("ueba_at", mode="before")
    @classmethod
    def check_time(cls, value: object) -> object:
        if value is None or isinstance(value, time):
            return value
        hours, _, minutes = str(value).partition(":") if isinstance(value, str) else ("", "", "")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError("expected a quoted UTC time such as '01:30' (YAML reads 1:30 as 90)")
        return time(int(hours), int(minutes))


class ServiceConfig(Section):
    """The whole `custodes.yaml`; `rules`, `sinks`, `notifications`, `posture` are checked by
    the stages that use them (custodes check runs every check)."""

    http: HttpConfig = HttpConfig()
    batch: BatchConfig = BatchConfig()
    sources: dict[str, SourceConfig] = {}
    rules: list[Any] = []  # checked by custodes.detect.engine.rule_paths_from_config
    sinks: dict[str, Any] = {}
    notifications: dict[str, Any] = {}
    posture: dict[str, Any] = {}  # checked by custodes.posture.settings
    control_url: str | None = None  # SQLAlchemy URL of the control database (None: SQLite)
    schedule: ScheduleConfig = ScheduleConfig()
    #: Lowest Sigma rule level that raises alerts (None: CUSTODES_ALERT_MIN_LEVEL, else low).
    alert_min_level: Literal["informational", "low", "medium", "high", "critical"] | None = None

    @field_validator("control_url")
    @classmethod
    def check_control_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError(
                f"expected a SQLAlchemy URL such as postgresql+psycopg://..., got {value!r}"
            )
        return value


def key_of(location: tuple[int | str, ...]) -> str:
    """The dotted key of an error location, without pydantic's union tag (`syslog`, `tail`)."""
    parts = [str(part) for part in location]
    if len(parts) >= 3 and parts[0] == "sources" and parts[2] in ("syslog", "tail"):
        del parts[2]
    return ".".join(parts)


def describe(error: ValidationError) -> str:
    """Pydantic's errors as `key.path: message` lines."""
    lines = []
    for problem in error.errors():
        location = key_of(problem["loc"]) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{location}: {message}")
    return "; ".join(lines)


def parse_config(document: object, *, path: str = "custodes.yaml") -> ServiceConfig:
    """A validated config from parsed YAML; ConfigError naming the first bad key."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level", path=path)
    try:
        return ServiceConfig.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        key = key_of(first["loc"])
        raise ConfigError(f"{path}: {describe(error)}", path=path, key=key) from None


def load_config(path: Path | None) -> ServiceConfig:
    """Read and validate `custodes.yaml` (defaults when `path` is None)."""
    if path is None:
        return ServiceConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}", path=str(path)) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}", path=str(path)) from None
    return parse_config(document, path=str(path))
