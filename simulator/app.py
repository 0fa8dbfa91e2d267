"""The simulator process: cluster model + one CQL server per node + admin API + Jolokia.

``run_simulator`` builds everything from the inventory on one asyncio loop, prints the
contact points and ``rackpanel sim: ready`` once every listener is up, and runs until
SIGINT/SIGTERM. The cluster's power and failure-detector changes reach the servers through
:class:`ServerBridge` (power physics, STATUS_CHANGE events).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from rackpanel.simulator.cluster import SimCluster, SimNode
from rackpanel.simulator.cluster.jolokia import start_jolokia
from rackpanel.simulator.cluster.storage import DEFAULT_MAX_PARTITIONS
from rackpanel.simulator.executor import NodeExecutor, SimContext
from rackpanel.simulator.protocol import heavy, messages
from rackpanel.simulator.protocol.limits import ServerLimits, raise_open_files_limit
from rackpanel.simulator.protocol.server import NodeServer
from rackpanel.topology import Inventory

log = logging.getLogger(__name__)
READY_LINE = "rackpanel sim: ready"
STALL_SWEEP_INTERVAL = 1.0  # seconds between sweeps for connections past their read timeout


class StartupError(RuntimeError):
    """Something the simulator needs could not start (e.g. an address already in use)."""


def parse_host_port(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StartupError(f"{what} must be HOST:PORT, got {text!r}")
    return host, int(port)


class ServerBridge:
    """Cluster listener: power changes → server physics; verdicts → STATUS_CHANGE events;
    a cut or healed DC link → every server holds or frees the clients it separates."""

    def __init__(self, servers: dict[str, NodeServer], cql_port: int) -> None:
        self.servers = servers
        self.cql_port = cql_port
        self._bodies: dict[tuple[str, bool], bytes] = {}  # (address, up) → event body

    def on_status_change(self, observer: SimNode, node: SimNode, up: bool) -> None:
        body = self._bodies.get((node.address, up))
        if body is None:
            body = messages.event_status_change(up, node.address, self.cql_port)
            self._bodies[(node.address, up)] = body
        self.servers[observer.name].push_event("STATUS_CHANGE", body)

    def on_link_change(self, dc_a: str, dc_b: str, up: bool) -> None:
        for server in self.servers.values():
            server.apply_links()

    def on_power_change(self, node: SimNode, powered: bool, crash: bool) -> None:
        server = self.servers[node.name]
        if powered:
            server.power_on()
        else:
            server.power_off(crash=crash)


@dataclass
class Simulator:
    """A running simulated cluster (what ``start_simulator`` returns)."""

    cluster: SimCluster
    context: SimContext
    servers: dict[str, NodeServer]
    admin: Any = None
    jolokia: list[Any] = field(default_factory=list)
    sweeper: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()
        for server in self.jolokia:
            with contextlib.suppress(Exception):
                await server.stop()
        if self.admin is not None:
            with contextlib.suppress(Exception):
                await self.admin.stop()
        for server in self.servers.values():
            await server.stop()
        await self.cluster.stop()
        heavy.shutdown()


async def _sweep_stalled(servers: dict[str, NodeServer]) -> None:
    """Once a second, every node closes its connections stuck mid-frame or before STARTUP
    (one task for all nodes: a task per node would wake the loop 1,000 times a second)."""
    while True:
        await asyncio.sleep(STALL_SWEEP_INTERVAL)
        for server in servers.values():
            try:
                server.close_stalled()
            except Exception:
                log.exception("closing stalled connections failed")


async def _start_jolokia(cluster: SimCluster, port: int) -> list[Any]:
    return [await start_jolokia(cluster, node, node.address, port) for node in cluster.nodes]


def create_inventory_schema(context: SimContext, inv: Inventory) -> None:
    """The inventory's keyspace and the writers' table, as a client's DDL would create them
    (before any client can connect: the real panel's cluster has them already)."""
    from rackpanel.simulator.cql import ast
    from rackpanel.simulator.cql.parser import parse
    from rackpanel.simulator.executor import ddl
    from rackpanel.topology.schema import schema_cql

    for text in schema_cql(inv.keyspace.name, inv.keyspace.replication):
        statement = parse(text)
        if isinstance(statement, ast.CreateKeyspace):
            context.cluster.validate_replication(statement.replication)
            ddl.create_keyspace(context, statement)
        elif isinstance(statement, ast.CreateTable):
            ddl.create_table(context, statement.keyspace or inv.keyspace.name, statement)


async def start_simulator(
    inv: Inventory,
    *,
    failure_detector: str | None = None,
    admin: tuple[str, int] | None = None,
    jolokia: bool = True,
    schema: bool = True,
    max_partitions: int = DEFAULT_MAX_PARTITIONS,
) -> Simulator:
    cluster = SimCluster.from_inventory(
        inv, failure_detector=failure_detector, max_partitions=max_partitions
    )
    cql_port = inv.ports.cql
    context = SimContext(cluster, cql_port)
    cluster.schema_version = context.schema.version
    limits = ServerLimits.for_cluster(len(cluster.nodes), raise_open_files_limit())
    servers = {
        node.name: NodeServer(
            node.address,
            cql_port,
            NodeExecutor(context, node),
            reachable=lambda client, node=node: cluster.client_can_reach(client, node),
            limits=limits,
        )
        for node in cluster.nodes
    }
    context.clients_of = lambda node: list(servers[node.name].connections)

    def broadcast(event_type: str, body: bytes) -> None:
        for server in servers.values():
            server.push_event(event_type, body)

    context.broadcast = broadcast
    if schema:
        create_inventory_schema(context, inv)
        cluster.schema_version = context.schema.version
    cluster.add_listener(ServerBridge(servers, cql_port))
    sim = Simulator(cluster, context, servers)
    if admin is not None:
        from rackpanel.simulator.cluster.admin import AdminRefused, refuse_exposed

        try:
            refuse_exposed(admin[0])
        except AdminRefused as exc:
            raise StartupError(str(exc)) from None
    try:
        for server in servers.values():
            await server.start()
        if admin is not None:
            from rackpanel.simulator.cluster.admin import start_admin
            from rackpanel.simulator.executor.repair import repair

            sim.admin = await start_admin(
                cluster, admin[0], admin[1], repair=lambda ks: repair(cluster, context.schema, ks)
            )
        if jolokia:
            sim.jolokia = await _start_jolokia(cluster, inv.ports.jolokia)
        await cluster.start()
        sim.sweeper = asyncio.get_running_loop().create_task(_sweep_stalled(servers))
    except OSError as exc:
        await sim.stop()
        raise StartupError(str(exc)) from exc
    return sim


def describe(sim: Simulator, inv: Inventory, admin: tuple[str, int] | None, out: TextIO) -> None:
    cluster = sim.cluster
    print(
        f"rackpanel sim: cluster {cluster.name!r}, {len(cluster.nodes)} nodes, "
        f"failure detector {cluster.failure_detector} "
        f"(phi_convict_threshold {cluster.phi_convict_threshold:g})",
        file=out,
    )
    for node in cluster.nodes:
        print(
            f"  {node.dc}/{node.rack:<6} {node.name:<14} {node.address}:{inv.ports.cql}", file=out
        )
    for dc in cluster.datacenters:
        points = ",".join(n.address for n in cluster.nodes if n.dc == dc)
        print(f"contact points {dc}: {points}", file=out)
    if admin is not None:
        print(f"admin API: http://{admin[0]}:{admin[1]}/state", file=out)
    if sim.jolokia:
        print(f"jolokia: http://<node address>:{inv.ports.jolokia}/jolokia/", file=out)
    if inv.keyspace.name in sim.context.schema.keyspaces:
        print(f"schema: keyspace {inv.keyspace.name} with its writers' table", file=out)
    print(READY_LINE, file=out, flush=True)


async def serve(
    inv: Inventory,
    *,
    failure_detector: str | None,
    admin: tuple[str, int] | None,
    jolokia: bool,
    schema: bool = True,
    out: TextIO = sys.stdout,
    max_partitions: int = DEFAULT_MAX_PARTITIONS,
) -> None:
    """Run until SIGINT/SIGTERM."""
    sim = await start_simulator(
        inv,
        failure_detector=failure_detector,
        admin=admin,
        jolokia=jolokia,
        schema=schema,
        max_partitions=max_partitions,
    )
    gc.collect()
    gc.freeze()  # start-up objects (modules, schema, ring) are never scanned by the GC again
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        describe(sim, inv, admin, out)
        await stop.wait()
    finally:
        await sim.stop()
        print("rackpanel sim: stopped", file=out, flush=True)
