"""The PromQL vocabulary of the dashboards: the metric names they may use, and label matchers.

Every expression a dashboard sends to Prometheus is built from the names listed here, and
``METRICS``/``RECORDING_RULES`` mirror ``shared/design/metrics.md`` (a test compares them), so a
dashboard can never ask for a series that the exporter, the writer or the rules do not produce.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rackpanel.topology import WriterPlace

# Exporter (job cassandra) and writer (job lcd_writer) metrics, as in metrics.md.
METRICS: frozenset[str] = frozenset(
    {
        "cassandra_up",
        "cassandra_exporter_source_up",
        "cassandra_exporter_collect_duration_seconds",
        "cassandra_exporter_collect_errors_total",
        "cassandra_node_info",
        "cassandra_endpoint_up",
        "cassandra_endpoint_liveness_exact",
        "cassandra_gossip_heartbeat",
        "cassandra_gossip_generation",
        "cassandra_gossip_heartbeat_age_seconds",
        "cassandra_gossip_status",
        "cassandra_endpoint_phi",
        "cassandra_jvm_memory_used_bytes",
        "cassandra_jvm_memory_committed_bytes",
        "cassandra_jvm_memory_max_bytes",
        "cassandra_jvm_gc_collections_total",
        "cassandra_jvm_gc_collection_seconds_total",
        "cassandra_jvm_threads",
        "cassandra_process_resident_memory_bytes",
        "cassandra_process_cpu_seconds_total",
        "cassandra_thread_pool_active_tasks",
        "cassandra_thread_pool_pending_tasks",
        "cassandra_thread_pool_blocked_tasks",
        "cassandra_thread_pool_completed_tasks_total",
        "cassandra_thread_pool_blocked_tasks_total",
        "cassandra_native_clients",
        "cassandra_pending_hints_files",
        "cassandra_client_request_failures_total",
        "lcd_writer_info",
        "lcd_writer_consistency_level",
        "lcd_writer_requests_total",
        "lcd_writer_request_duration_seconds",
        "lcd_writer_coordinator_requests_total",
        "lcd_writer_cluster_hosts_up",
    }
)

RECORDING_RULES: frozenset[str] = frozenset(
    {
        "cassandra:endpoint_up:max",
        "cassandra:rack_nodes_up:sum",
        "cassandra:rack_nodes:count",
        "cassandra:dc_nodes_up:sum",
        "cassandra:dc_nodes:count",
        "lcd_writer:success_ratio:rate1m",
    }
)

# Series Prometheus itself produces: `ALERTS` for the alert rules of prometheus/rules.
BUILTIN_SERIES: frozenset[str] = frozenset({"ALERTS", "up"})

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

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


def any_of(values: Iterable[str]) -> str:
    """A regex matcher value (for :func:`matchers`) matching exactly one of ``values``."""
    return "~" + "|".join(re.escape(v) for v in values)


def endpoint_regex(addresses: Iterable[str]) -> str:
    """A regex matcher for the ``endpoint`` label of a node known by any of ``addresses``.

    The exporter's ``endpoint`` is the node's address; an optional ``:port`` is tolerated, so
    the same dashboard works whether it runs against the simulator (loopback addresses) or the
    Raspberry Pis (LAN addresses).
    """
    alternatives = "|".join(re.escape(a) for a in dict.fromkeys(addresses))
    return f"~({alternatives})(:[0-9]+)?"


def writer_selector(writer: WriterPlace, **extra: str) -> str:
    """Matchers selecting one writer's series (its target label), plus ``extra`` labels."""
    return matchers(**{WRITER_LABEL: writer.name}, **extra)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^}]*\}")
_BRACKETS = re.compile(r"\[[^\]]*\]")
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
    text = _BRACES.sub("{}", text)
    text = _BRACKETS.sub("[]", text)
    text = _LABEL_LISTS.sub(" ", text)
    return {m.group(1) for m in _IDENT.finditer(text) if m.group(1).lower() not in _KEYWORDS}


def known_series(name: str) -> bool:
    if name in METRICS or name in RECORDING_RULES or name in BUILTIN_SERIES:
        return True
    return any(name.endswith(s) and name.removesuffix(s) in METRICS for s in HISTOGRAM_SUFFIXES)
