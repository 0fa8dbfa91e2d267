"""What every node's executor shares: the cluster, the schema, the parse cache, the servers."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rackpanel.simulator.schema import Schema
from rackpanel.topology.model import release_of

if TYPE_CHECKING:
    from rackpanel.simulator.cql.ast import Statement

PARSE_CACHE_SIZE = 2048


class SimContext:
    """Shared by the node executors of one simulated cluster.

    ``clients_of(node)`` lists the connections a node's server holds (for
    system_views.clients) and ``broadcast`` pushes an event body to every live node's
    registered connections; both are wired by :mod:`simulator.app`.
    """

    def __init__(self, cluster: Any, cql_port: int) -> None:
        self.cluster = cluster
        self.schema = Schema(release_of(cluster.nodes[0].release_version))
        self.cql_port = cql_port
        self.clients_of: Callable[[Any], list] = lambda node: []
        self.broadcast: Callable[[str, bytes], None] = lambda event_type, body: None
        self._parsed: OrderedDict[str, Statement] = OrderedDict()
        self._markers: dict[int, tuple[Statement, tuple]] = {}

    def parse(self, text: str) -> Statement:
        """Parse with a bounded cache: drivers send the same statements over and over."""
        statement = self._parsed.get(text)
        if statement is None:
            from rackpanel.simulator.cql import parse

            statement = parse(text)
            self._parsed[text] = statement
            if len(self._parsed) > PARSE_CACHE_SIZE:
                self._parsed.popitem(last=False)
        return statement

    def markers(self, statement: Statement) -> tuple:
        """``statement.bind_markers``, computed once per statement (it walks the whole AST)."""
        entry = self._markers.get(id(statement))
        if entry is None or entry[0] is not statement:
            if len(self._markers) > 2 * PARSE_CACHE_SIZE:
                self._markers.clear()
            entry = self._markers[id(statement)] = (statement, statement.bind_markers)
        return entry[1]
