"""Child processes that tests and benchmarks start themselves."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM; SIGKILL if it has not exited within ``grace`` seconds. Returns once it is gone."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
