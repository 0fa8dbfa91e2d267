"""The whole contract as collections, read from its modules each time they are asked for.

Reading the module attributes at call time (not copying them once at import) means a change
to one entry (a test that renames a family) is seen by everything built from the contract.
"""

from __future__ import annotations

from types import ModuleType
from typing import TypeVar

from rackpanel.contract import families as _families
from rackpanel.contract import rules as _rules
from rackpanel.contract.model import AlertName, ContractError, MetricFamily, RecordingRule

T = TypeVar("T")


def _collect(module: ModuleType, kind: type[T]) -> tuple[T, ...]:
    found = tuple(v for k, v in vars(module).items() if k.isupper() and isinstance(v, kind))
    names = [getattr(v, "name") for v in found]  # noqa: B009 - T is any named entry
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ContractError(f"{module.__name__}: names declared twice: {twice}")
    return found


def metric_families() -> tuple[MetricFamily, ...]:
    """Every family of the exporter and the writer, in the order of the contract."""
    return _collect(_families, MetricFamily)


def recording_rules() -> tuple[RecordingRule, ...]:
    return _collect(_rules, RecordingRule)


def alerts() -> tuple[AlertName, ...]:
    return _collect(_rules, AlertName)


def family(name: str) -> MetricFamily:
    """The family called ``name``; ContractError when the contract has none."""
    for entry in metric_families():
        if entry.name == name:
            return entry
    raise ContractError(f"{name}: no such metric family in the contract")


def sample_names() -> frozenset[str]:
    """Every sample name a scrape may carry (histograms as _bucket, _sum, _count)."""
    return frozenset(s for f in metric_families() for s in f.samples)


def record_names() -> frozenset[str]:
    return frozenset(r.name for r in recording_rules())


def alert_names() -> frozenset[str]:
    return frozenset(a.name for a in alerts())
