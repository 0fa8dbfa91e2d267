"""CQL text → syntax tree, and the CQL data types.

- :func:`parse` — one statement of CQL text to a :mod:`simulator.cql.ast` node (tokenizer +
  recursive descent; SyntaxException / InvalidRequest with Cassandra-like messages).
- :func:`parse_type` — ``"map<text, int>"`` to a :class:`CqlType` (codec, literals, ordering).
- :func:`routing_key` — the partition key bytes the driver computes for token-aware routing.
"""

from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.parser import parse
from rackpanel.simulator.cql.types import CqlType, parse_type, routing_key

__all__ = ["CqlType", "ast", "parse", "parse_type", "routing_key"]
