"""Which alerts go to which sinks, delivery with retries and backoff, and the dead-letter record.

```yaml
sinks:
  on_call: {type: webhook, url: "https://hooks.example.org/custodes"}
  soc_mail: {type: email, host: 127.0.0.1, port: 25, from: custodes@example.org,
             to: [soc@example.org]}
  siem: {type: syslog, address: "udp:127.0.0.1:5514"}
notifications:
  retries: 4                 # after the first try
  backoff_secs: 1.0          # doubled after each failure, at most max_backoff_secs
  max_backoff_secs: 60
  routes:
    - {min_level: high, sinks: [on_call, siem]}
    - {tags: [attack.credential_access, attack.t1003], sinks: [soc_mail]}
```

An alert goes to every sink of every route it matches, once per sink. A notification that still
fails after its retries is appended to `<data_dir>/notify/dead-letter.jsonl` with the sink, the
attempts and the last error, so nothing is silently lost and it can be sent again.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from custodes.errors import ConfigError
from custodes.notify.sinks import BUILTIN_SINKS, DeliveryError, Sink, SinkFactory

log = logging.getLogger(__name__)
LEVELS = ("informational", "low", "medium", "high", "critical")
DEAD_LETTER_FILE = Path("notify") / "dead-letter.jsonl"


class Route(BaseModel):
    """Alerts at `min_level` or above (or in `levels`), carrying any of `tags`, go to `sinks`."""

    model_config = ConfigDict(extra="forbid")

    sinks: Annotated[list[str], Field(min_length=1)]
    min_level: str | None = None
    levels: list[str] = []
    tags: list[str] = []

    @model_validator(mode="after")
    def known_levels(self) -> Route:
        """Levels must be Sigma's."""
        for level in [self.min_level, *self.levels]:
            if level is not None and level not in LEVELS:
                raise ValueError(f"unknown level {level!r}: use one of {', '.join(LEVELS)}")
        return self

    def matches(self, payload: Mapping[str, Any]) -> bool:
        """Whether an alert takes this route. A tag matches itself and its sub-techniques."""
        level = str(payload.get("level", ""))
        if self.min_level is not None and (
            level not in LEVELS or LEVELS.index(level) < LEVELS.index(self.min_level)
        ):
            return False
        if self.levels and level not in self.levels:
            return False
        if self.tags:
            alert_tags = [str(tag).lower() for tag in payload.get("tags", ())]
            wanted = [tag.lower() for tag in self.tags]
            return any(
                tag == want or tag.startswith(want + ".") for tag in alert_tags for want in wanted
            )
        return True


class NotifyConfig(BaseModel):
    """The `notifications:` section of custodes.yaml."""

    model_config = ConfigDict(extra="forbid")

    retries: Annotated[int, Field(ge=0, le=20)] = 4
    backoff_secs: Annotated[float, Field(ge=0)] = 1.0
    max_backoff_secs: Annotated[float, Field(ge=0)] = 60.0
    routes: list[Route] = []


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one alert at one sink."""

    sink: str
    is_delivered: bool
    attempts: int
    error: str = ""


class DeadLetters:
    """Append-only JSON lines of notifications that never got through."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, sink: str, payload: Mapping[str, Any], attempts: int, error: str) -> None:
        """Append one failed notification (fsync'ed: it is the only copy)."""
        line = orjson.dumps(
            {
                "failed_at": datetime.now(UTC).isoformat(),
                "sink": sink,
                "attempts": attempts,
                "error": error,
                "alert": payload,
            }
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as handle:
                handle.write(line + b"\n")
                handle.flush()
                os.fsync(handle.fileno())

    def read(self) -> list[dict[str, Any]]:
        """Every dead letter, oldest first."""
        if not self.path.exists():
            return []
        return [orjson.loads(line) for line in self.path.read_bytes().splitlines() if line.strip()]


class Notifier:
    """Sends alerts to the sinks their routes name, retrying with exponential backoff.

    `deliver` works in the caller's thread (tests, the CLI); `submit` queues for a background
    thread so detection never waits on a slow mail server (`start`/`close`).
    """

    def __init__(
        self,
        sinks: Mapping[str, Sink],
        config: NotifyConfig,
        dead_letters: DeadLetters,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sinks = dict(sinks)
        self.config = config
        self.dead_letters = dead_letters
        self.sleep = sleep
        self.counters: Counter[str] = Counter()
        self._queue: queue.Queue[Mapping[str, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def sinks_for(self, payload: Mapping[str, Any]) -> list[str]:
        """The sinks an alert goes to, each once, in route order."""
        chosen: dict[str, None] = {}
        for route in self.config.routes:
            if route.matches(payload):
                chosen.update(dict.fromkeys(route.sinks))
        return list(chosen)

    def deliver(self, payload: Mapping[str, Any]) -> list[Delivery]:
        """Send one alert to each of its sinks now; failures end in the dead-letter record."""
        return [self.deliver_to(name, payload) for name in self.sinks_for(payload)]

    def deliver_to(self, name: str, payload: Mapping[str, Any]) -> Delivery:
        """Try one sink up to 1 + retries times, backing off between tries."""
        sink = self.sinks[name]
        delay = self.config.backoff_secs
        error = ""
        attempts = 0
        for attempts in range(1, self.config.retries + 2):  # noqa: B007 (used after the loop)
            try:
                sink.send(payload)
            except DeliveryError as failure:
                error = failure.message
                self.counters[f"{name}:retried"] += 1
                if attempts <= self.config.retries:
                    self.sleep(min(delay, self.config.max_backoff_secs))
                    delay *= 2
                continue
            self.counters[f"{name}:delivered"] += 1
            return Delivery(sink=name, is_delivered=True, attempts=attempts)
        self.counters[f"{name}:dead"] += 1
        log.warning("notification to %s failed after %d attempts: %s", name, attempts, error)
        self.dead_letters.record(name, payload, attempts, error)
        return Delivery(sink=name, is_delivered=False, attempts=attempts, error=error)

    def outcomes(self) -> dict[tuple[str, str], int]:
        """Per (sink, outcome): notifications `delivered`, tries `retried`, letters `dead`."""
        found = {}
        for key, count in self.counters.items():
            sink, _, outcome = key.rpartition(":")
            if sink:
                found[(sink, outcome)] = count
        return found

    def submit(self, payload: Mapping[str, Any]) -> None:
        """Queue an alert for the background thread (started on first use)."""
        if self._thread is None:
            self.start()
        self._queue.put(payload)

    def start(self) -> None:
        """Start the background delivery thread."""
        self._thread = threading.Thread(target=self._run, name="custodes-notify", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (payload := self._queue.get()) is not None:
            try:
                self.deliver(payload)
            except Exception:  # the outer loop of a long-running task: log, count, go on
                log.exception("notification failed")
                self.counters["errors"] += 1

    def close(self) -> None:
        """Deliver what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


def build_notifier(
    sinks: Mapping[str, Any],
    notifications: Mapping[str, Any],
    data_dir: Path,
    *,
    factories: Mapping[str, SinkFactory] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Notifier:
    """A notifier from the `sinks:` and `notifications:` sections; ConfigError names the bad key.

    `factories` are the sink types the plugins registered (`Registry.sinks`); the built-in
    webhook, email and syslog sinks are used when none are given.
    """
    known_types: Mapping[str, SinkFactory] = factories or BUILTIN_SINKS
    built: dict[str, Sink] = {}
    for name, options in sinks.items():
        if not isinstance(options, Mapping) or "type" not in options:
            raise ConfigError(f"sinks.{name}: needs a type", key=f"sinks.{name}")
        kind = str(options["type"])
        if kind not in known_types:
            known = ", ".join(sorted(known_types))
            raise ConfigError(
                f"sinks.{name}.type: unknown sink type {kind!r} (known: {known})",
                key=f"sinks.{name}.type",
            )
        try:
            built[name] = known_types[kind](name, options)
        except ValidationError as error:
            raise ConfigError(_describe(f"sinks.{name}", error), key=f"sinks.{name}") from None
    try:
        config = NotifyConfig.model_validate(dict(notifications))
    except ValidationError as error:
        raise ConfigError(_describe("notifications", error), key="notifications") from None
    for index, route in enumerate(config.routes):
        for name in route.sinks:
            if name not in built:
                raise ConfigError(
                    f"notifications.routes.{index}.sinks: no sink named {name!r}",
                    key=f"notifications.routes.{index}.sinks",
                )
    return Notifier(built, config, DeadLetters(data_dir / DEAD_LETTER_FILE), sleep=sleep)


def _describe(prefix: str, error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join([prefix, *(str(part) for part in problem["loc"])])
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        parts.append(f"{where}: {message.removeprefix('Value error, ')}")
    return "; ".join(parts)


def resend_dead_letters(notifier: Notifier, *, sinks: Sequence[str] | None = None) -> int:
    """Try every dead letter again (optionally only some sinks); returns how many got through.

    The record is rewritten with only those that failed again.
    """
    letters = notifier.dead_letters.read()
    remaining, sent = [], 0
    for letter in letters:
        if (sinks is not None and letter["sink"] not in sinks) or letter[
            "sink"
        ] not in notifier.sinks:
            remaining.append(letter)
            continue
        try:
            notifier.sinks[letter["sink"]].send(letter["alert"])
        except DeliveryError as failure:
            remaining.append({**letter, "error": failure.message})
            continue
        sent += 1
    path = notifier.dead_letters.path
    if path.exists():
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(b"".join(orjson.dumps(letter) + b"\n" for letter in remaining))
        temporary.replace(path)
    return sent
