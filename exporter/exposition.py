"""Metric families and their Prometheus text exposition (format 0.0.4).

The page is rendered once per collection, not per scrape. The renderer is our own (a few
lines) rather than ``prometheus_client.generate_latest`` because the contract has a gauge
``cassandra_thread_pool_blocked_tasks`` beside a counter ``..._blocked_tasks_total``: the
client library strips ``_total`` from counter family names, which would give both families the
same name. Values are formatted with the client library's own ``floatToGoString``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.utils import floatToGoString

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]


@dataclass
class Family:
    name: str
    type: str  # gauge | counter
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> Family:
        self.samples.append((tuple(labels.items()), value))
        return self


def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n")


def render(families: Iterable[Family]) -> bytes:
    lines: list[str] = []
    for family in families:
        if not family.samples:
            continue
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.type}")
        for labels, value in family.samples:
            if labels:
                text = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
                lines.append(f"{family.name}{{{text}}} {floatToGoString(value)}")
            else:
                lines.append(f"{family.name} {floatToGoString(value)}")
    lines.append("")
    return "\n".join(lines).encode()
