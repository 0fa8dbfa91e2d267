"""The writer's cassandra-driver cluster, session and prepared statements.

DC-aware routing with a remote-DC fallback (``used_hosts_per_remote_dc``, see
:mod:`lcd_writer.policy`) so the coordinator moves to the other DC when every local node is
gone, optionally token-aware; the client
request timeout (0.5 s by default) on every request. After a power cut the driver learns
that a host is dead only from its idle heartbeat (30 s + 30 s by default), so the heartbeat
interval and timeout are short here, and reconnection never gives up (the driver's default
stops after 64 attempts and backs off to 10 minutes).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import ExponentialReconnectionPolicy, TokenAwarePolicy
from rackpanel.lcd_writer.options import WriterOptions
from rackpanel.lcd_writer.policy import SteadyDCAwarePolicy
from rackpanel.topology.schema import TABLE, schema_cql

DDL_TIMEOUT = 10.0


def build_cluster(opts: WriterOptions) -> Cluster:
    policy: Any = SteadyDCAwarePolicy(opts.local_dc, opts.used_hosts_per_remote_dc)
    if opts.token_aware:
        policy = TokenAwarePolicy(policy)
    profile = ExecutionProfile(load_balancing_policy=policy, request_timeout=opts.request_timeout)
    extra: dict[str, Any] = {}
    if opts.protocol_version is not None:
        extra["protocol_version"] = opts.protocol_version
    if opts.source_address:
        extra["connection_class"] = source_bound(Cluster.connection_class, opts.source_address)
    if opts.username:
        extra["auth_provider"] = PlainTextAuthProvider(opts.username, opts.password or "")
    return Cluster(
        contact_points=list(opts.contact_points),
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=opts.connect_timeout,
        control_connection_timeout=opts.connect_timeout,
        idle_heartbeat_interval=opts.heartbeat_interval,
        idle_heartbeat_timeout=opts.heartbeat_interval,
        reconnection_policy=ExponentialReconnectionPolicy(0.5, 4.0, max_attempts=None),
        status_event_refresh_window=0.5,
        topology_event_refresh_window=1.0,
        **extra,
    )


def source_bound(base: type, source: str) -> type:
    """The driver's connection class, opening its sockets from ``source`` (``--source-address``).

    On a Pi the kernel picks the right address anyway; on loopback every connection would
    come from 127.0.0.1, and the simulator tells a writer from any other client (e.g. to cut
    it off from the other DC with ``link:DC1-DC2``) only by its address.
    """

    class SourceBoundConnection(base):  # type: ignore[misc, valid-type]
        def _initiate_connection(self, sockaddr: Any) -> None:
            self._socket.bind((source, 0))
            super()._initiate_connection(sockaddr)

    return SourceBoundConnection


class CassandraLink:
    """A connected session with the demo keyspace, table and prepared statements."""

    def __init__(self, opts: WriterOptions) -> None:
        self.cluster = build_cluster(opts)
        try:
            self.session: Session = self.cluster.connect()
            ensure_schema(self.session, opts.keyspace, opts.replication)
            condition = " IF NOT EXISTS" if opts.conditional else ""
            self.insert = self.session.prepare(
                f"INSERT INTO {opts.keyspace}.{TABLE} (id, msg, creation_date) "
                f"VALUES (?, ?, ?){condition}"
            )
            self.select = self.session.prepare(
                f"SELECT id, msg FROM {opts.keyspace}.{TABLE} WHERE id = ?"
            )
        except BaseException:
            self.cluster.shutdown()
            raise

    def hosts_up(self) -> list[tuple[str, int]]:
        """``(dc, hosts up)`` for every DC the driver knows, zeros included."""
        up: Counter[str] = Counter()
        for host in self.cluster.metadata.all_hosts():
            up[str(host.datacenter)] += 1 if host.is_up else 0
        return sorted(up.items())

    def close(self) -> None:
        self.cluster.shutdown()


def ensure_schema(session: Session, keyspace: str, replication: dict[str, int]) -> None:
    for statement in schema_cql(keyspace, replication):
        session.execute(statement, timeout=DDL_TIMEOUT)
