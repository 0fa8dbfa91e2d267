"""PromQL helpers of the dashboards: label matchers, selectors and the rate window.

Which series names a dashboard may use is the contract's business
(:func:`rackpanel.contract.unknown_series`); the dashboards' checks refuse any other.
"""

from __future__ import annotations

from rackpanel.topology import WriterPlace

# The target label naming a writer (file_sd puts cluster, dc, rack, node on every target).
WRITER_LABEL = "node"

# Observation window of rates on the dashboards: a fixed minute, the same in every profile
# (demo scrapes every 2 s, production every 15 s: both leave several samples per window).
WINDOW = "1m"


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def matchers(**labels: str) -> str:
    """``{a="x", b="y"}`` from keyword arguments (a value starting with ``~`` is a regex)."""
    parts = []
    for name, value in labels.items():
        op, text = ("=~", value[1:]) if value.startswith("~") else ("=", value)
        parts.append(f"{name}{op}{quote(text)}")
    return "{" + ", ".join(parts) + "}"


def writer_selector(writer: WriterPlace, **extra: str) -> str:
    """Matchers selecting one writer's series (its target label), plus ``extra`` labels."""
    return matchers(**{WRITER_LABEL: writer.name}, **extra)
