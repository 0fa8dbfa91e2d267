"""The shapes of the metric contract: a metric family, a recording rule, an alert."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MetricType = Literal["gauge", "counter", "histogram"]
Source = Literal["cql", "jolokia", "proc", "gclog"]
Job = Literal["cassandra", "lcd_writer"]
Severity = Literal["warning", "critical"]

# The scrape jobs: the exporter of each node, the LCD writer of each client Pi.
CASSANDRA_JOB: Job = "cassandra"
WRITER_JOB: Job = "lcd_writer"

# The exporter's sources, in the order it reports them.
SOURCES: tuple[Source, ...] = ("cql", "jolokia", "proc", "gclog")

# Labels Prometheus puts on every target (file_sd); no family may carry one itself.
TARGET_LABELS = ("cluster", "dc", "rack", "node")

# The three labels naming an observed endpoint (a node as gossip sees it).
ENDPOINT_LABELS = ("endpoint", "endpoint_dc", "endpoint_rack")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_RECORD = re.compile(r"^[a-z_]+:[a-z0-9_]+(:[a-z0-9_]+)?$")
_ALERT = re.compile(r"^[A-Z][A-Za-z0-9]+$")


class ContractError(ValueError):
    """The contract breaks one of its own conventions, or a part uses a name it does not hold."""


@dataclass(frozen=True)
class MetricFamily:
    """One family a /metrics page carries.

    ``sources`` are the exporter sources any one of which yields the family (empty for the
    exporter's own families and for the writer's); ``constant`` marks an info-style gauge
    whose value is always 1.
    """

    name: str
    type: MetricType
    help: str
    job: Job
    labels: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    constant: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not _NAME.match(self.name):
            problems.append("not snake_case")
        if (self.type == "counter") != self.name.endswith("_total"):
            problems.append("counters, and only counters, end in _total")
        if not self.name.startswith(f"{self.job}_"):
            problems.append(f"does not start with its job's prefix {self.job}_")
        taken = sorted(set(self.labels) & set(TARGET_LABELS))
        if taken:
            problems.append(f"carries target labels {taken}")
        if len(set(self.labels)) != len(self.labels):
            problems.append("repeats a label")
        if not self.help or "\n" in self.help:
            problems.append("needs a one-line help")
        if problems:
            raise ContractError(f"metric family {self.name}: " + "; ".join(problems))

    @property
    def samples(self) -> tuple[str, ...]:
        """The sample names a scrape of this family yields."""
        if self.type == "histogram":
            return tuple(f"{self.name}{s}" for s in ("_bucket", "_sum", "_count"))
        return (self.name,)


@dataclass(frozen=True)
class RecordingRule:
    name: str
    meaning: str
    job: Job

    def __post_init__(self) -> None:
        if not _RECORD.match(self.name):
            raise ContractError(f"recording rule {self.name}: not level:metric[:operations]")


@dataclass(frozen=True)
class AlertName:
    name: str
    severity: Severity
    meaning: str
    job: Job

    def __post_init__(self) -> None:
        if not _ALERT.match(self.name):
            raise ContractError(f"alert {self.name}: not CamelCase")
