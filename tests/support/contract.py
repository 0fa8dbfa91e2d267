"""The metric contract (rackpanel.contract) as the tests compare it, and /metrics pages read
with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from rackpanel.contract import metric_families

Labels = tuple[tuple[str, str], ...]
Series = dict[str, dict[Labels, float]]


def parse_page(text: str) -> tuple[dict[str, str], Series]:
    """(sample name → family type, sample name → {labels: value}) of a text exposition.

    Families are named as the page names them (``x_total`` for a counter), labels sorted.
    """
    types: dict[str, str] = {}
    series: Series = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            types.setdefault(sample.name, family.type)
            labels = tuple(sorted(sample.labels.items()))
            series.setdefault(sample.name, {})[labels] = sample.value
    return types, series


def contract(job: str) -> dict[str, tuple[str, frozenset[str]]]:
    """The families of a job (``cassandra`` or ``lcd_writer``): name → (type, label names)."""
    return {f.name: (f.type, frozenset(f.labels)) for f in metric_families() if f.job == job}


def families(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Every family of a page: name → (type, label names), histogram samples folded in."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for family in text_string_to_metric_families(text):
        name = family.name + "_total" if family.type == "counter" else family.name
        labels = {key for sample in family.samples for key in sample.labels}
        found[name] = (family.type, frozenset(labels - {"le"}))
    return found
