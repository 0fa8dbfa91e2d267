"""Timing profiles: how often Prometheus scrapes and evaluates, and how long alerts wait.

``demo`` is for an audience in front of the panel: 2 s scrapes and evaluations and ``for:`` of a
few seconds, so an alert shows within seconds of pulling a plug. ``production`` is for a cluster
someone is on call for: 15 s and ``for:`` of minutes. The rules themselves are written once
(:mod:`prometheus.rules`); a profile only fills in these numbers.

Node ``for:`` > rack ``for:`` >= datacenter ``for:`` on purpose: when a whole rack or DC goes,
its alert must reach Alertmanager no later than the node alerts it inhibits. Nodes that lose
power together are not convicted together: each observer last heard of each node through
gossip at a different moment, so the last of them is judged down up to a couple of gossip
rounds after the first (and Prometheus sees it one scrape later still). The rack or DC
condition holds only from the last conviction, the node conditions from each one's own, so the
node ``for:`` exceeds the DC's by that spread plus an evaluation: in the demo profile 8 s
against 2 s (three 2 s evaluations). With one evaluation between them (4 s against 2 s), a
node convicted two evaluations before its DC's last was notified on its own.

The way back is the mirror image: when power returns, the nodes of a rack or DC are seen up
one by one (each observer learns of each node by gossip, a few rounds apart), so the DC or rack
condition clears as soon as the first node is seen while the others are still judged down. The
alerts that inhibit others therefore keep firing (``keep_firing_for``) a while after their
condition clears, longer than a whole rack or DC takes to be seen up again; only a node still
down after that is notified on its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    scrape_interval: str
    scrape_timeout: str
    evaluation_interval: str
    # ``for:`` of each alert, by alert name.
    hold: dict[str, str]
    # ``keep_firing_for:`` of the alerts that inhibit others (the rest have none).
    keep_firing: dict[str, str]
    # rate() window of the writer-failure alert: several scrapes, short enough to react.
    writer_failure_window: str
    # Alertmanager routing pace.
    group_wait: str
    group_interval: str
    repeat_interval: str

    def hold_for(self, alert: str) -> str:
        try:
            return self.hold[alert]
        except KeyError:
            raise KeyError(f"profile {self.name!r} has no 'for:' for alert {alert}") from None


DEMO = Profile(
    name="demo",
    scrape_interval="2s",
    scrape_timeout="1500ms",
    evaluation_interval="2s",
    hold={
        "CassandraDatacenterUnavailable": "2s",
        "CassandraDatacenterPartitioned": "2s",
        "CassandraRackDown": "2s",
        "CassandraNodeDown": "8s",
        "CassandraLocalQuorumAtRisk": "8s",
        "CassandraExporterDown": "10s",
        "CassandraJvmHeapHigh": "30s",
        "LcdWriterWritesFailing": "4s",
        "LcdWriterDown": "10s",
    },
    # the simulator's nine nodes are all seen up again within ~5 s of a power-on
    keep_firing={
        "CassandraDatacenterUnavailable": "15s",
        "CassandraRackDown": "15s",
    },
    writer_failure_window="10s",
    group_wait="1s",
    group_interval="5s",
    repeat_interval="1h",
)

PRODUCTION = Profile(
    name="production",
    scrape_interval="15s",
    scrape_timeout="10s",
    evaluation_interval="15s",
    hold={
        "CassandraDatacenterUnavailable": "1m",
        "CassandraDatacenterPartitioned": "1m",
        "CassandraRackDown": "1m",
        "CassandraNodeDown": "2m",
        "CassandraLocalQuorumAtRisk": "2m",
        "CassandraExporterDown": "5m",
        "CassandraJvmHeapHigh": "10m",
        "LcdWriterWritesFailing": "2m",
        "LcdWriterDown": "5m",
    },
    # real nodes restart one by one: a node still down 5 minutes after its rack is back is news
    keep_firing={
        "CassandraDatacenterUnavailable": "5m",
        "CassandraRackDown": "5m",
    },
    writer_failure_window="2m",
    group_wait="30s",
    group_interval="5m",
    repeat_interval="4h",
)

PROFILES: dict[str, Profile] = {p.name: p for p in (DEMO, PRODUCTION)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown Prometheus profile {name!r} (known: {known})") from None
