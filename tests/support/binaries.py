"""External programs the tests need: skipped with a reason on a laptop, a failure under CI."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str, *alternatives: str) -> str:
    """The path of ``name`` (or the first alternative found); skip or fail when none is."""
    for candidate in (name, *alternatives):
        path = shutil.which(candidate) or (
            f"/usr/sbin/{candidate}" if os.path.exists(f"/usr/sbin/{candidate}") else None
        )
        if path:
            return path
    reason = (
        f"{name} is not installed; the test command (./dev.sh test) installs it "
        "when it runs as root or with sudo"
    )
    if IN_CI:
        pytest.fail(f"CI=true and a required binary is missing: {reason}", pytrace=False)
    pytest.skip(reason)
