"""Request bodies as the real cassandra-driver encodes them, decoded by the simulator: every
QUERY/EXECUTE parameter flag, in protocol v4 and v5."""

from __future__ import annotations

import io

import pytest
from cassandra import ConsistencyLevel as DriverCL
from cassandra.protocol import ExecuteMessage, QueryMessage
from cassandra.query import UNSET_VALUE
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


def plain_and_general(body: bytes, version: int):
    """What the write lane reads of ``body`` and what the general path reads (None where it
    raises: a malformed body)."""
    plain = messages.read_plain_execute(body, version)
    try:
        request = messages.read_execute(Reader(body), version)
    except Exception:
        return plain, None
    params = request.params
    general = (request.statement_id, params.consistency, params.values, params.timestamp)
    return plain, (request, general)


@pytest.mark.parametrize("version", [4, 5])
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"fetch_size": 100},
        {"fetch_size": 5000, "timestamp": 1_700_000_000_123_456},
        {"timestamp": 0},
    ],
    ids=["bare", "page-size", "page-size-and-timestamp", "timestamp-zero"],
)
def test_the_write_lane_reads_a_plain_execute_as_the_general_path_does(version, extra):
    """Values by position (null and unset among them), a page size, the client's timestamp:
    the lane's reading is the general one's; cut short anywhere, it declines."""
    message = ExecuteMessage(
        STATEMENT_ID, [b"key", None, UNSET_VALUE, b"", b"last"], DriverCL.LOCAL_QUORUM,
        result_metadata_id=METADATA_ID if version >= 5 else None, **extra,
    )  # fmt: skip
    body = body_of(message, version)
    plain, (request, general) = plain_and_general(body, version)
    assert plain is not None
    statement_id, code, values, timestamp = plain
    assert (statement_id, ConsistencyLevel(code), values, timestamp) == general
    assert values[2] is messages.UNSET and request.params.values[2] is messages.UNSET
    for cut in range(len(body)):
        shorter, parsed = plain_and_general(body[:cut], version)
        if shorter is not None:  # only a cut that leaves a whole plain EXECUTE may be read
            assert parsed is not None and shorter[0] == parsed[1][0]
            assert (shorter[2], shorter[3]) == (parsed[1][2], parsed[1][3])


@pytest.mark.parametrize("version", [4, 5])
@pytest.mark.parametrize(
    "extra",
    [
        {"paging_state": b"\x01state"},
        {"serial_consistency_level": DriverCL.LOCAL_SERIAL},
        {"query_params": None},
    ],
    ids=["paging-state", "serial-consistency", "no-values"],
)
def test_the_write_lane_leaves_any_other_execute_to_the_general_path(version, extra):
    arguments = {"query_params": [b"key"], **extra}
    message = ExecuteMessage(
        STATEMENT_ID, consistency_level=DriverCL.ONE,
        result_metadata_id=METADATA_ID if version >= 5 else None, **arguments,
    )  # fmt: skip
    assert messages.read_plain_execute(body_of(message, version), version) is None
