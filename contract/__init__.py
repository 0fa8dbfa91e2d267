"""The metric contract as code: every metric family (type, labels, help, the exporter source it
needs), the recording rules and the alerts.

A ground module: it uses no part. The exporter and the writer take their families from it,
prometheus/rules and the dashboards check every series they name against it, and
docs/metrics.md is generated from it (``rackpanel generate --check`` fails when it drifts).
"""

from rackpanel.contract import families, rules
from rackpanel.contract.model import (
    CASSANDRA_JOB,
    ENDPOINT_LABELS,
    SOURCES,
    TARGET_LABELS,
    WRITER_JOB,
    AlertName,
    ContractError,
    MetricFamily,
    RecordingRule,
)
from rackpanel.contract.promql import known_series, series_names, unknown_series
from rackpanel.contract.registry import (
    alert_names,
    alerts,
    family,
    metric_families,
    record_names,
    recording_rules,
    sample_names,
)

__all__ = [
    "CASSANDRA_JOB",
    "ENDPOINT_LABELS",
    "SOURCES",
    "TARGET_LABELS",
    "WRITER_JOB",
    "AlertName",
    "ContractError",
    "MetricFamily",
    "RecordingRule",
    "alert_names",
    "alerts",
    "families",
    "family",
    "known_series",
    "metric_families",
    "record_names",
    "recording_rules",
    "rules",
    "sample_names",
    "series_names",
    "unknown_series",
]
