"""Request bodies as the real cassandra-driver encodes them, decoded by the simulator: every
QUERY/EXECUTE parameter flag, in protocol v4 and v5."""

from __future__ import annotations

import io

import pytest
from cassandra import ConsistencyLevel as DriverCL
from cassandra.protocol import ExecuteMessage, QueryMessage
from rackpanel.simulator.core import ConsistencyLevel
from rackpanel.simulator.protocol import messages
from rackpanel.simulator.protocol.wire import Reader

STATEMENT_ID = bytes(range(16))
METADATA_ID = bytes(range(16, 32))


def body_of(message, version: int) -> bytes:
    out = io.BytesIO()
    message.send_body(out, version)
    return out.getvalue()


@pytest.mark.parametrize("version", [4, 5])
def test_a_plain_execute_carries_only_its_values(version):
    message = ExecuteMessage(
        STATEMENT_ID, [b"key", None], DriverCL.LOCAL_QUORUM,
        result_metadata_id=METADATA_ID if version >= 5 else None,
    )  # fmt: skip
    request = messages.read_execute(Reader(body_of(message, version)), version)
    assert request.statement_id == STATEMENT_ID
    assert request.result_metadata_id == (METADATA_ID if version >= 5 else None)
    params = request.params
    assert params.consistency is ConsistencyLevel.LOCAL_QUORUM
    assert params.values == [b"key", None]
    assert params.names is None and not params.skip_metadata
    assert (params.page_size, params.paging_state, params.timestamp) == (None, None, None)
    assert params.serial_consistency is None


@pytest.mark.parametrize("version", [4, 5])
def test_every_optional_execute_parameter_is_read(version):
    message = ExecuteMessage(
        STATEMENT_ID, [b"a", b"bc"], DriverCL.QUORUM,
        serial_consistency_level=DriverCL.LOCAL_SERIAL, fetch_size=5000,
        paging_state=b"\x01\x02state", timestamp=1_700_000_000_123_456,
        result_metadata_id=METADATA_ID if version >= 5 else None,
    )  # fmt: skip
    params = messages.read_execute(Reader(body_of(message, version)), version).params
    assert params.consistency is ConsistencyLevel.QUORUM
    assert params.values == [b"a", b"bc"]
    assert params.page_size == 5000
    assert params.paging_state == b"\x01\x02state"
    assert params.serial_consistency is ConsistencyLevel.LOCAL_SERIAL
    assert params.timestamp == 1_700_000_000_123_456


def test_a_v5_query_names_its_keyspace():
    message = QueryMessage(
        "SELECT * FROM t", DriverCL.ONE, fetch_size=100, timestamp=42, keyspace="ks"
    )
    request = messages.read_query(Reader(body_of(message, 5)), 5)
    assert request.query == "SELECT * FROM t"
    params = request.params
    assert (params.keyspace, params.page_size, params.timestamp) == ("ks", 100, 42)
    assert params.values == [] and params.names is None
