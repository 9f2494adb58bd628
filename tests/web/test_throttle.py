"""The sign-in throttle counts failures per address and name, and forgets them in time."""

from __future__ import annotations

from custodes.web.throttle import SignInThrottle


def test_failures_expire_after_the_window() -> None:
    now = [1000.0]
    throttle = SignInThrottle(max_failures=3, window_secs=60, clock=lambda: now[0])
    for _ in range(3):
        throttle.fail("127.0.0.1", "Ann")
    assert throttle.wait_secs("127.0.0.1", "ann") == 60
    assert throttle.wait_secs("127.0.0.2", "ann") == 0
    now[0] += 45
    assert throttle.wait_secs("127.0.0.1", "ann") == 15
    now[0] += 15
    assert throttle.wait_secs("127.0.0.1", "ann") == 0


def test_success_forgets_failures() -> None:
    throttle = SignInThrottle(max_failures=2, window_secs=60)
    throttle.fail("a", "bob")
    throttle.succeed("a", "bob")
    throttle.fail("a", "bob")
    assert throttle.wait_secs("a", "bob") == 0
