"""The one wait helper of the tests and benchmarks: poll until a condition holds, or fail
saying what was awaited."""

from __future__ import annotations

import linecache
import os
import time
import urllib.error
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def described(condition: Callable[[], object]) -> str:
    """Where a condition was written and its line of source (``file.py:42: lambda: ...``): what
    a timeout names when the caller gave no ``what``, so that a failed wait among several says
    which one it was."""
    code = getattr(condition, "__code__", None)
    if code is None:
        return repr(condition)
    line = linecache.getline(code.co_filename, code.co_firstlineno).strip()
    return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}: {line}"


def wait_for(
    predicate: Callable[[], T], timeout: float, what: str | None = None, interval: float = 0.1
) -> T:
    """``predicate()``'s first truthy result; AssertionError naming ``what`` (by default where
    ``predicate`` was written) after ``timeout``.

    Connection errors and unparsable answers count as "not yet" (a service still starting).
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last  # type: ignore[return-value]
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout} s waiting for {what or described(predicate)} (last: {last!r})"
    )


def seconds_until(
    condition: Callable[[], object],
    timeout: float,
    what: str | None = None,
    interval: float = 0.1,
) -> float:
    """Seconds until ``condition()`` holds, polled every ``interval`` (the measure is exact to
    one interval); AssertionError naming ``what`` (by default where ``condition`` was written)
    after ``timeout``.

    Unlike ``wait_for``, an exception from ``condition`` fails at once, not "not yet".
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s: {what or described(condition)}")
