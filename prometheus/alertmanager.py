"""alertmanager.yml: one route, optional webhook, and the inhibitions of the outage hierarchy.

A datacenter-down alert silences the rack-down, node-down and LOCAL_QUORUM alerts inside it;
a rack-down alert silences the node-down alerts of its nodes. So when DC2 loses power the
audience (and whoever is on call) sees ONE alert, not a dozen.
"""

from __future__ import annotations

from rackpanel.prometheus.profiles import Profile

RECEIVER = "panel"

INHIBIT_RULES: list[dict[str, object]] = [
    {
        "source_matchers": ['alertname="CassandraDatacenterUnavailable"'],
        "target_matchers": [
            'alertname=~"CassandraRackDown|CassandraNodeDown|CassandraLocalQuorumAtRisk"'
        ],
        "equal": ["cluster", "endpoint_dc"],
    },
    {
        "source_matchers": ['alertname="CassandraRackDown"'],
        "target_matchers": ['alertname="CassandraNodeDown"'],
        "equal": ["cluster", "endpoint_dc", "endpoint_rack"],
    },
]


def alertmanager_config(profile: Profile, webhook_url: str | None = None) -> dict[str, object]:
    """The Alertmanager document. Without ``webhook_url`` alerts are only held (Grafana and
    the API show them); with it, every notification, resolved ones included, is POSTed there."""
    receiver: dict[str, object] = {"name": RECEIVER}
    if webhook_url:
        receiver["webhook_configs"] = [{"url": webhook_url, "send_resolved": True}]
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname", "cluster", "endpoint_dc", "endpoint_rack"],
            "group_wait": profile.group_wait,
            "group_interval": profile.group_interval,
            "repeat_interval": profile.repeat_interval,
        },
        "receivers": [receiver],
        "inhibit_rules": INHIBIT_RULES,
    }
