"""Run every panel query of the dashboards against a real Prometheus, as Grafana would.

Grafana is not installable everywhere, so this is how the dashboards are proven to show data:
template variables are resolved the way Grafana's Prometheus datasource does
(``label_values(selector, label)`` through the label-values API, ``query_result(expr)`` through
an instant query and the variable's regex), every combination of values is tried, and a query
"has data" when at least one combination returns a series.

    python -m tests.support.probe --prometheus http://127.0.0.1:9090 [--inventory inventory.yml]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from typing import Any

from rackpanel.dashboards.queries import PanelQuery, panel_queries
from rackpanel.prometheus.client import PrometheusClient, PrometheusError

MAX_COMBINATIONS = 32
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<selector>.+),\s*)?(?P<label>\w+)\s*\)\s*$")
_QUERY_RESULT = re.compile(r"^\s*query_result\((?P<expr>.+)\)\s*$", re.S)
_DURATION = re.compile(r"^now-(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# The dashboards ask Prometheus through the project's own client.
Prometheus = PrometheusClient


def range_seconds(board: dict[str, Any]) -> int:
    match = _DURATION.match((board.get("time") or {}).get("from", ""))
    if not match:
        raise ValueError(f"dashboard {board.get('uid')}: unsupported time.from")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def expand(text: str, values: dict[str, str], board: dict[str, Any]) -> str:
    """Substitute ``$var``/``${var}`` and the built-ins the dashboards use (``$__range``)."""
    builtins = {"__range": f"{range_seconds(board)}s"}
    everything = {**builtins, **values}
    for name in sorted(everything, key=len, reverse=True):
        text = text.replace("${" + name + "}", everything[name]).replace(
            "$" + name, everything[name]
        )
    return text


def _series_text(series: dict[str, Any]) -> str:
    """A result as Grafana's query_result() shows it: ``name{a="b"} value timestamp``."""
    metric = dict(series["metric"])
    name = metric.pop("__name__", "")
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()))
    timestamp, value = series["value"]
    return f"{name}{{{labels}}} {value} {int(float(timestamp) * 1000)}"


def variable_values(prom: Prometheus, variable: dict[str, Any], query: str) -> list[str]:
    if match := _LABEL_VALUES.match(query):
        values = prom.label_values(match.group("label"), match.group("selector"))
    elif match := _QUERY_RESULT.match(query):
        values = [_series_text(s) for s in prom.query(match.group("expr"))]
    else:
        raise ValueError(f"variable {variable['name']}: unsupported query {query!r}")
    regex = variable.get("regex") or ""
    if regex:
        pattern = re.compile(regex.strip("/"))
        found = [pattern.search(v) for v in values]
        values = [m.group(1) if m.groups() else m.group(0) for m in found if m]
    return list(dict.fromkeys(values))


def combinations(prom: Prometheus, board: dict[str, Any]) -> list[dict[str, str]]:
    """Every assignment of the dashboard's query variables, each narrowed by the previous."""
    combos: list[dict[str, str]] = [{}]
    for variable in (board.get("templating") or {}).get("list") or []:
        if variable.get("type") != "query":
            continue
        query = variable["query"]
        query = query if isinstance(query, str) else query["query"]
        extended = []
        for combo in combos:
            for value in variable_values(prom, variable, expand(query, combo, board)):
                extended.append({**combo, variable["name"]: value})
        combos = extended[:MAX_COMBINATIONS]
    return combos


@dataclass(frozen=True)
class Probe:
    query: PanelQuery
    series: int
    # the variable values that returned data (or were tried last when none did)
    values: dict[str, str]
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.series > 0 and not self.error


def probe(prom: Prometheus, board: dict[str, Any]) -> list[Probe]:
    """Each panel query of ``board``, run with variable values until one returns data."""
    combos = combinations(prom, board)
    results = []
    for pq in panel_queries(board):
        if not combos:
            results.append(Probe(pq, 0, {}, "no value for the dashboard's variables"))
            continue
        result = Probe(pq, 0, {})
        for combo in combos:
            try:
                count = len(prom.query(expand(pq.expr, combo, board)))
            except PrometheusError as exc:
                result = Probe(pq, 0, combo, str(exc))
                break
            result = Probe(pq, count, combo)
            if count:
                break
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    from rackpanel.dashboards.catalog import dashboards
    from rackpanel.topology import load_inventory

    parser = argparse.ArgumentParser(prog="python -m tests.support.probe", description=__doc__)
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--inventory", default=None)
    args = parser.parse_args(argv)
    prom = Prometheus(args.prometheus)
    empty = 0
    for uid, board in dashboards(load_inventory(args.inventory)).items():
        for result in probe(prom, board):
            status = "ok   " if result.ok else "EMPTY"
            empty += not result.ok
            print(f"{status} {uid} {result.query} -> {result.series} series {result.error}")
    return 1 if empty else 0


if __name__ == "__main__":
    sys.exit(main())
