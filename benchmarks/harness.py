"""What every benchmark shares: where results go, the machine they were measured on, and
writing them so that an interrupted run never leaves a half-written results file."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine(**extra: object) -> dict[str, Any]:
    """The figures every result carries (the numbers mean little without the load beside
    them), and a benchmark's own (``extra``: e.g. the load before and after its run)."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1m_at_write": round(os.getloadavg()[0], 2),
        **extra,
    }


def write_results(path: Path, result: dict[str, Any]) -> Path:
    """``result`` as JSON at ``path``, stamped ``measured_at`` (now) and given ``machine`` when
    it has none; written beside and renamed into place (atomic), then named on stdout."""
    stamped = {**result, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    stamped.setdefault("machine", machine())
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".part", delete=False) as out:
        try:
            json.dump(stamped, out, indent=2)
            out.write("\n")
        except BaseException:
            os.unlink(out.name)
            raise
    os.replace(out.name, path)
    print(f"written {path}")
    return path
