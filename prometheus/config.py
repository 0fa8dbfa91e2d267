"""The whole Prometheus + Alertmanager configuration of an inventory, as files.

``render(inv, placement, profile)`` returns ``{relative path: text}``::

    prometheus.yml           scrape jobs (file_sd), rule files, Alertmanager, external labels
    targets/cassandra.json   one exporter per node, labelled cluster, dc, rack, node
    targets/lcd_writer.json  one per writer, same labels (rack "client")
    rules/cassandra.yml      liveness records + node/rack/DC/LOCAL_QUORUM/exporter/heap alerts
    rules/lcd_writer.yml     writer success ratio + writer alerts
    alertmanager.yml         route, optional webhook, inhibitions

All paths inside prometheus.yml are relative to its directory, so the set can be written
anywhere (``prometheus/`` in the repo, a demo run directory, a container volume). The same
function serves ``rackpanel generate`` (placement ``pi``), ``rackpanel demo`` (``sim``) and the
compose generator (``compose``).
"""

from __future__ import annotations

from rackpanel.prometheus.alertmanager import alertmanager_config
from rackpanel.prometheus.jobs import CASSANDRA_JOB, WRITER_JOB
from rackpanel.prometheus.profiles import Profile, get_profile
from rackpanel.prometheus.rules import rule_files
from rackpanel.prometheus.targets import (
    PLACEMENTS,
    Placement,
    alertmanager_address,
    cassandra_targets,
    writer_targets,
)
from rackpanel.prometheus.yamltext import to_json, to_yaml
from rackpanel.topology import Inventory

HEADER = (
    "# Generated from the inventory by `rackpanel generate` (prometheus/config.py): do not edit.\n"
)


def prometheus_config(
    inv: Inventory, profile: Profile, alertmanager: str, rule_paths: list[str]
) -> dict[str, object]:
    def job(name: str) -> dict[str, object]:
        return {
            "job_name": name,
            "file_sd_configs": [{"files": [f"targets/{name}.json"], "refresh_interval": "30s"}],
        }

    return {
        "global": {
            "scrape_interval": profile.scrape_interval,
            "scrape_timeout": profile.scrape_timeout,
            "evaluation_interval": profile.evaluation_interval,
            # Attached to alerts sent to Alertmanager (targets carry `cluster` themselves).
            "external_labels": {"cluster": inv.cluster.name},
        },
        "rule_files": rule_paths,
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [job(CASSANDRA_JOB), job(WRITER_JOB)],
    }


def render(
    inv: Inventory,
    placement: Placement,
    profile: str | Profile | None = None,
    *,
    alertmanager: str | None = None,
    webhook_url: str | None = None,
) -> dict[str, str]:
    """Every configuration file for ``inv`` at ``placement``.

    ``profile`` defaults to the inventory's ``prometheus.profile``; ``alertmanager``
    (``host:port``) overrides where Prometheus sends alerts; ``webhook_url`` makes
    Alertmanager POST its notifications there.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r} (known: {', '.join(PLACEMENTS)})")
    if profile is None:
        profile = inv.prometheus.profile
    if isinstance(profile, str):
        profile = get_profile(profile)
    rules = {f"rules/{name}": doc for name, doc in rule_files(inv, profile).items()}
    files: dict[str, str] = {
        "prometheus.yml": to_yaml(
            prometheus_config(
                inv, profile, alertmanager or alertmanager_address(inv, placement), sorted(rules)
            ),
            HEADER + f"# placement: {placement}, profile: {profile.name}\n",
        ),
        f"targets/{CASSANDRA_JOB}.json": to_json(cassandra_targets(inv, placement)),
        f"targets/{WRITER_JOB}.json": to_json(writer_targets(inv, placement)),
        "alertmanager.yml": to_yaml(alertmanager_config(profile, webhook_url), HEADER),
    }
    for path, doc in rules.items():
        files[path] = to_yaml(doc, HEADER + f"# profile: {profile.name}\n")
    return files
