"""The ``cql`` source: the local node's system tables and ``system_views``, over the driver.

The driver talks to this one node only (a whitelist load-balancing policy; token and schema
metadata off, so the control connection stays cheap whatever the cluster size). Which columns
a virtual table has is asked once per connection from ``system_virtual_schema.columns``
(4.1 and 5.0 differ: 5.0 adds gossip_info columns), and only the columns used are selected.
On a node without ``system_views.gossip_info`` (4.0) the endpoints come from
``system.peers_v2`` instead, with no heartbeat: liveness of peers then needs Jolokia.

All queries of a collection run concurrently, each bounded by the source timeout. Connecting
is retried with exponential backoff (1 s doubling to 10 s) until it succeeds once; after that
the driver's own reconnection (same backoff) keeps the session alive across node restarts, so
the exporter never needs restarting.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rackpanel.exporter.readings import CqlReading, EndpointId, GossipEntry, LocalNode, ThreadPool
from rackpanel.exporter.sources import SourceError

log = logging.getLogger(__name__)

VIEWS = ("gossip_info", "settings", "thread_pools", "clients", "pending_hints")
GOSSIP_COLUMNS = ("address", "generation", "heartbeat", "status_with_port", "status", "dc", "rack")
POOL_COLUMNS = (
    "name",
    "active_tasks",
    "pending_tasks",
    "blocked_tasks",
    "completed_tasks",
    "blocked_tasks_all_time",
)
HINT_COLUMNS = ("address", "dc", "rack", "files")
LOCAL_QUERY = (
    "SELECT host_id, data_center, rack, release_version, cluster_name, broadcast_address, "
    "listen_address, rpc_address FROM system.local WHERE key = 'local'"
)
PEERS_QUERY = "SELECT peer, data_center, rack FROM system.peers_v2"
COLUMNS_QUERY = (
    "SELECT column_name FROM system_virtual_schema.columns "
    "WHERE keyspace_name = 'system_views' AND table_name = '{table}'"
)
SETTINGS_QUERY = "SELECT name, value FROM system_views.settings"
DEFAULT_PHI_CONVICT_THRESHOLD = 8.0
SCHEMA_REFRESH_SECONDS = 300.0
SETTINGS_REFRESH_SECONDS = 60.0
BACKOFF_START, BACKOFF_MAX = 1.0, 10.0


def parse_host_port(text: str, default_port: int) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT`` or ``[V6]:PORT`` → (host, port); ValueError names the problem."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":") or str(default_port)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, str(default_port)
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"expected HOST[:PORT], got {text!r}")
    return host, int(port_text)


def gossip_status(value: str | None) -> str | None:
    """``NORMAL,-4611686018427387904`` → ``NORMAL``; ``shutdown,true`` → ``shutdown``."""
    if not value:
        return None
    return value.split(",", 1)[0].strip() or None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


class CqlSource:
    name = "cql"

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password = username, password
        self._cluster: Any = None
        self._session: Any = None
        self._next_attempt = 0.0
        self._backoff = BACKOFF_START
        self._last_connect_error = ""
        self._columns: dict[str, set[str]] = {}
        self._columns_at = 0.0
        self._phi: float | None = None
        self._phi_at = 0.0
        self._warned: set[str] = set()

    # ---- connection ---------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._session is not None:
            return self._session
        now = time.monotonic()
        if now < self._next_attempt:
            wait = self._next_attempt - now
            raise SourceError(
                f"not connected to {self.host}:{self.port} (next attempt in {wait:.0f} s): "
                f"{self._last_connect_error}"
            )
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import ExponentialReconnectionPolicy, WhiteListRoundRobinPolicy
        from cassandra.query import dict_factory

        profile = ExecutionProfile(
            load_balancing_policy=WhiteListRoundRobinPolicy([self.host]),
            request_timeout=self.timeout,
            row_factory=dict_factory,
        )
        auth = PlainTextAuthProvider(self.username, self.password or "") if self.username else None
        cluster = Cluster(
            [self.host],
            port=self.port,
            protocol_version=4,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            auth_provider=auth,
            schema_metadata_enabled=False,
            token_metadata_enabled=False,
            connect_timeout=self.timeout,
            control_connection_timeout=self.timeout,
            reconnection_policy=ExponentialReconnectionPolicy(BACKOFF_START, BACKOFF_MAX),
            idle_heartbeat_interval=10,
            idle_heartbeat_timeout=max(self.timeout, 2.0),
        )
        try:
            session = cluster.connect()
        except Exception as exc:
            cluster.shutdown()
            self._last_connect_error = _one_line(exc)
            self._next_attempt = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, BACKOFF_MAX)
            raise SourceError(
                f"cannot connect to {self.host}:{self.port}: {self._last_connect_error}"
            ) from None
        self._cluster, self._session = cluster, session
        self._backoff = BACKOFF_START
        self._columns_at = self._phi_at = 0.0
        return session

    @property
    def session(self) -> Any:
        """The driver session (None until connected); for benchmarks measuring bare queries."""
        return self._session

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = self._session = None

    # ---- collection ---------------------------------------------------------------------

    def collect(self) -> CqlReading:
        session = self._connect()
        columns = self._view_columns(session)
        has_gossip = bool(columns.get("gossip_info"))
        queries = self.queries(columns)
        if columns.get("settings") and time.monotonic() - self._phi_at > SETTINGS_REFRESH_SECONDS:
            queries["settings"] = SETTINGS_QUERY
        rows = self._run(session, queries, required=("local", "gossip"))
        local = self._local(rows["local"])
        if "settings" in rows:
            self._phi = self._phi_from(rows["settings"])
            self._phi_at = time.monotonic()
        gossip = (
            [self._gossip_entry(r) for r in rows["gossip"]]
            if has_gossip
            else [self._peer_entry(r) for r in rows["gossip"]]
        )
        if not any(e.endpoint.address == local.endpoint.address for e in gossip):
            gossip.append(GossipEntry(local.endpoint, None, None, None))
        return CqlReading(
            local=local,
            gossip=tuple(sorted(gossip, key=lambda e: e.endpoint.address)),
            gossip_from_peers=not has_gossip,
            phi_convict_threshold=self._phi or DEFAULT_PHI_CONVICT_THRESHOLD,
            thread_pools=tuple(self._pool(r) for r in rows.get("pools", [])),
            native_clients=len(rows.get("clients", [])),
            pending_hints=tuple(
                (
                    EndpointId(_text(r.get("address")), _text(r.get("dc")), _text(r.get("rack"))),
                    _int(r.get("files")),
                )
                for r in rows.get("hints", [])
            ),
        )

    def queries(self, columns: dict[str, set[str]]) -> dict[str, str]:
        """The statements of every collection, given the columns each view has."""
        queries: dict[str, str] = {"local": LOCAL_QUERY}
        if columns.get("gossip_info"):
            queries["gossip"] = self._select("gossip_info", GOSSIP_COLUMNS, columns)
        else:
            queries["gossip"] = PEERS_QUERY
        if columns.get("thread_pools"):
            queries["pools"] = self._select("thread_pools", POOL_COLUMNS, columns)
        if columns.get("clients"):
            queries["clients"] = "SELECT address FROM system_views.clients"
        if columns.get("pending_hints"):
            queries["hints"] = self._select("pending_hints", HINT_COLUMNS, columns)
        return queries

    def _run(
        self, session: Any, queries: dict[str, str], required: tuple[str, ...]
    ) -> dict[str, list[dict[str, Any]]]:
        from cassandra import DriverException, OperationTimedOut, RequestExecutionException

        futures = {
            key: session.execute_async(q, timeout=self.timeout) for key, q in queries.items()
        }
        rows: dict[str, list[dict[str, Any]]] = {}
        for key, future in futures.items():
            try:
                rows[key] = list(future.result())
            except (OperationTimedOut, RequestExecutionException) as exc:
                raise SourceError(f"{self.host}: {key} query: {_one_line(exc)}") from None
            except DriverException as exc:
                if key in required:
                    raise SourceError(f"{self.host}: {key} query: {_one_line(exc)}") from None
                self._warn_once(key, f"{self.host}: {key} query failed, skipped: {_one_line(exc)}")
            except Exception as exc:  # NoHostAvailable, connection errors
                raise SourceError(f"{self.host}: {key} query: {_one_line(exc)}") from None
        return rows

    def view_columns(self) -> dict[str, set[str]]:
        """Connect if needed and return the columns of each system_views table used."""
        return self._view_columns(self._connect())

    def _view_columns(self, session: Any) -> dict[str, set[str]]:
        if time.monotonic() - self._columns_at < SCHEMA_REFRESH_SECONDS:
            return self._columns
        queries = {view: COLUMNS_QUERY.format(table=view) for view in VIEWS}
        rows = self._run(session, queries, required=VIEWS)
        self._columns = {view: {r["column_name"] for r in rows[view]} for view in VIEWS}
        self._columns_at = time.monotonic()
        if not self._columns["gossip_info"]:
            self._warn_once(
                "gossip_info",
                f"{self.host}: no system_views.gossip_info (Cassandra < 4.1): endpoints from "
                "system.peers_v2, no heartbeats; peers' liveness needs Jolokia",
            )
        return self._columns

    @staticmethod
    def _select(view: str, wanted: tuple[str, ...], columns: dict[str, set[str]]) -> str:
        present = [c for c in wanted if c in columns[view]]
        return f"SELECT {', '.join(present)} FROM system_views.{view}"

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)

    # ---- rows → readings ----------------------------------------------------------------

    def _local(self, rows: list[dict[str, Any]]) -> LocalNode:
        if not rows:
            raise SourceError(f"{self.host}: system.local returned no row")
        row = rows[0]
        address = next(
            (
                str(row[k])
                for k in ("broadcast_address", "listen_address", "rpc_address")
                if row.get(k)
            ),
            self.host,
        )
        return LocalNode(
            host_id=_text(row.get("host_id")),
            endpoint=EndpointId(address, _text(row.get("data_center")), _text(row.get("rack"))),
            release_version=_text(row.get("release_version")),
            cluster_name=_text(row.get("cluster_name")),
        )

    @staticmethod
    def _gossip_entry(row: dict[str, Any]) -> GossipEntry:
        return GossipEntry(
            endpoint=EndpointId(
                _text(row.get("address")), _text(row.get("dc")), _text(row.get("rack"))
            ),
            generation=row.get("generation"),
            heartbeat=row.get("heartbeat"),
            status=gossip_status(row.get("status_with_port") or row.get("status")),
        )

    @staticmethod
    def _peer_entry(row: dict[str, Any]) -> GossipEntry:
        endpoint = EndpointId(
            _text(row.get("peer")), _text(row.get("data_center")), _text(row.get("rack"))
        )
        return GossipEntry(endpoint, None, None, None)

    @staticmethod
    def _pool(row: dict[str, Any]) -> ThreadPool:
        return ThreadPool(
            name=_text(row.get("name")),
            active=_int(row.get("active_tasks")),
            pending=_int(row.get("pending_tasks")),
            blocked=_int(row.get("blocked_tasks")),
            completed_total=_int(row.get("completed_tasks")),
            blocked_total=_int(row.get("blocked_tasks_all_time")),
        )

    def _phi_from(self, rows: list[dict[str, Any]]) -> float | None:
        for row in rows:
            if row.get("name") == "phi_convict_threshold":
                try:
                    return float(row["value"])
                except (TypeError, ValueError):
                    self._warn_once("phi", f"{self.host}: unreadable phi_convict_threshold")
        return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
