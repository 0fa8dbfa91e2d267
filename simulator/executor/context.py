"""What every node's executor shares: the cluster, the schema, the parse cache, the servers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rackpanel.simulator.executor.caches import ByteBoundedLRU, statement_bytes
from rackpanel.simulator.executor.tracing import TraceStore
from rackpanel.simulator.protocol import heavy
from rackpanel.simulator.schema import Schema
from rackpanel.topology.model import release_of

if TYPE_CHECKING:
    from rackpanel.simulator.cql.ast import Statement

PARSE_CACHE_BYTES = 64 * 1024 * 1024  # parsed statements kept, by estimated size


class SimContext:
    """Shared by the node executors of one simulated cluster.

    ``clients_of(node)`` lists the connections a node's server holds (for
    system_views.clients) and ``broadcast`` pushes an event body to every live node's
    registered connections; both are wired by :mod:`rackpanel.simulator.app`.
    """

    def __init__(self, cluster: Any, cql_port: int) -> None:
        self.cluster = cluster
        self.schema = Schema(release_of(cluster.nodes[0].release_version))
        self.cql_port = cql_port
        self.clients_of: Callable[[Any], list] = lambda node: []
        self.broadcast: Callable[[str, bytes], None] = lambda event_type, body: None
        self.traces = TraceStore()
        self.parsed: ByteBoundedLRU[tuple[Statement, tuple]] = ByteBoundedLRU(PARSE_CACHE_BYTES)

    async def parse(self, text: str) -> tuple[Statement, tuple]:
        """(statement, its bind markers), from a cache bounded in bytes: drivers send the same
        statements over and over. A long text is parsed on the heavy lane, off the loop, and
        not kept (its huge AST would make every later garbage collection slower)."""
        if len(text) > heavy.HEAVY_TEXT:
            return await heavy.run(_parse, text)
        entry = self.parsed.get(text)
        if entry is None:
            entry = _parse(text)
            self.parsed.put(text, entry, statement_bytes(text))
        return entry


def _parse(text: str) -> tuple[Statement, tuple]:
    from rackpanel.simulator.cql import parse

    statement = parse(text)
    return statement, statement.bind_markers
