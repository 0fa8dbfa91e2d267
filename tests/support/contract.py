"""The metric contract (docs/metrics.md) as data, and /metrics pages parsed to compare with it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

Series = dict[str, dict[tuple[tuple[str, str], ...], float]]


def parse_page(text: str) -> tuple[dict[str, str], Series]:
    """(family → type, family → {labels: value}) of a text exposition."""
    types: dict[str, str] = {}
    series: Series = {}
    sample = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            match = sample.match(line)
            assert match, f"unparsable line {line!r}"
            labels = tuple(label.findall(match[2] or ""))
            series.setdefault(match[1], {})[labels] = float(match[3])
    return types, series


def contract(section: str) -> dict[str, tuple[str, frozenset[str]]]:
    """A table of docs/metrics.md (``exporter`` or ``writer``): name → (type, label names)."""
    text = (REPO / "docs" / "metrics.md").read_text()
    table = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    wanted: dict[str, tuple[str, frozenset[str]]] = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([a-z_]+)`", cells[0])
        types = [t.strip().split(" ")[0] for t in cells[1].split(",")]
        labels = set(re.findall(r"`([a-z_]+)`", cells[2]))
        if "endpoint labels" in cells[2]:
            labels |= {"endpoint", "endpoint_dc", "endpoint_rack"}
        first = names[0]
        for index, name in enumerate(names):
            if name.startswith("_"):  # "`a_b_used_bytes` / `_max_bytes`": replaces the tail
                name = "_".join(first.split("_")[: -len(name.strip("_").split("_"))]) + name
            kind = types[index] if len(types) == len(names) else types[0]
            wanted[name] = (kind, frozenset(labels))
    return wanted


HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def families(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Every family of a page: name → (type, label names), histogram samples folded in."""
    types, series = parse_page(text)
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for name, kind in types.items():
        samples = [name] if kind != "histogram" else [name + s for s in HISTOGRAM_SUFFIXES]
        labels = {key for sample in samples for keys in series.get(sample, {}) for key, _ in keys}
        found[name] = (kind, frozenset(labels - {"le"}))
    return found
