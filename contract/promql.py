"""The PromQL vocabulary: which series an expression names, and whether the contract has them.

Rules and dashboards check every expression they write with :func:`unknown_series`, so none
can ask for a series that the exporter, the writer or the rules do not produce.
"""

from __future__ import annotations

import re

from rackpanel.contract.registry import record_names, sample_names

# Series Prometheus itself produces: `up` per target, `ALERTS` for the alert rules.
BUILTIN_SERIES: frozenset[str] = frozenset({"ALERTS", "up"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^}]*\}")
_BRACKETS = re.compile(r"\[[^\]]*\]")
_COMMENTS = re.compile(r"#[^\n]*")
_LABEL_LISTS = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(?!\s*\(|[\w:])")
_KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
    }
)


def series_names(expr: str) -> set[str]:
    """The metric (and recording rule) names an expression selects."""
    text = _STRING.sub('""', expr)
    text = _COMMENTS.sub(" ", text)
    text = _BRACES.sub("{}", text)
    text = _BRACKETS.sub("[]", text)
    text = _LABEL_LISTS.sub(" ", text)
    return {m.group(1) for m in _IDENT.finditer(text) if m.group(1).lower() not in _KEYWORDS}


def known_series(name: str) -> bool:
    return name in sample_names() or name in record_names() or name in BUILTIN_SERIES


def unknown_series(expr: str) -> list[str]:
    """The names ``expr`` selects that the contract does not hold, sorted."""
    return sorted(n for n in series_names(expr) if not known_series(n))
