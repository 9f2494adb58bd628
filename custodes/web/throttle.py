"""Slows password guessing: after a few failed sign-ins from one address for one name, wait."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class SignInThrottle:
    """At most `max_failures` failed sign-ins per (address, name) within `window_secs`.

    >>> throttle = SignInThrottle(max_failures=2, window_secs=60)
    >>> throttle.fail("10.0.0.1", "ann"); throttle.fail("10.0.0.1", "ann")
    >>> throttle.wait_secs("10.0.0.1", "ann") > 0, throttle.wait_secs("10.0.0.2", "ann")
    (True, 0.0)
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_secs: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_secs = window_secs
        self.clock = clock
        self._failures: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window_secs:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def wait_secs(self, address: str, name: str) -> float:
        """How long this address must wait before trying this name again (0: go ahead)."""
        now = self.clock()
        with self._lock:
            failures = self._recent((address, name.lower()), now)
            if len(failures) < self.max_failures:
                return 0.0
            return failures[0] + self.window_secs - now

    def fail(self, address: str, name: str) -> None:
        """Count one failed sign-in."""
        with self._lock:
            self._failures[(address, name.lower())].append(self.clock())

    def succeed(self, address: str, name: str) -> None:
        """Forget the failures once the right password was given."""
        with self._lock:
            self._failures.pop((address, name.lower()), None)
