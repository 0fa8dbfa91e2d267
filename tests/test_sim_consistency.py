"""Every consistency level against each failure pattern of the demo panel, through the real
driver, with the coordinator pinned so the outcome is the coordinator's own decision.

Expected outcomes are derived from Cassandra's rules (cassandra-facts §4), not from the
simulator: with {DC1: 3, DC2: 3} NetworkTopologyStrategy puts one DC1 replica in each of the
three DC1 racks and a replica on each of the three DC2 nodes; a CL is available when each of
its groups (all replicas, the coordinator's DC, or each DC) keeps enough live replicas.
"""

from __future__ import annotations

import time
import uuid

import pytest
from cassandra import ConsistencyLevel as CL
from cassandra import InvalidRequest, Unavailable, WriteTimeout
from cassandra.query import SimpleStatement

from tests.support.sim import create_keyspace, driver_cluster, pinned_session

KEYSPACE = "cl_tests"
RF = {"DC1": 3, "DC2": 3}
DC1_RACKS = ["RAC1", "RAC2", "RAC3"]
WRITE_LEVELS = [
    CL.ANY, CL.ONE, CL.TWO, CL.THREE, CL.QUORUM, CL.ALL,
    CL.LOCAL_ONE, CL.LOCAL_QUORUM, CL.EACH_QUORUM,
]  # fmt: skip
READ_LEVELS = [level for level in WRITE_LEVELS if level != CL.ANY]


def quorum(n: int) -> int:
    return n // 2 + 1


def groups(level: int, coordinator_dc: str) -> list[tuple[str, int]]:
    """(replica group, acks required) for a CL: group 'all', a DC name."""
    total = sum(RF.values())
    return {
        CL.ONE: [("all", 1)],
        CL.TWO: [("all", 2)],
        CL.THREE: [("all", 3)],
        CL.QUORUM: [("all", quorum(total))],
        CL.ALL: [("all", total)],
        CL.LOCAL_ONE: [(coordinator_dc, 1)],
        CL.LOCAL_QUORUM: [(coordinator_dc, quorum(RF[coordinator_dc]))],
        CL.EACH_QUORUM: [(dc, quorum(rf)) for dc, rf in RF.items()],
        CL.SERIAL: [("all", quorum(total))],
        CL.LOCAL_SERIAL: [(coordinator_dc, quorum(RF[coordinator_dc]))],
    }[level]


def live_in(group: str, live: dict[str, int]) -> int:
    return sum(live.values()) if group == "all" else live[group]


def shortfalls(level: int, coordinator_dc: str, live: dict[str, int]) -> list[tuple[int, int]]:
    """(required, alive) of every group the live replicas cannot satisfy."""
    return [
        (need, live_in(group, live))
        for group, need in groups(level, coordinator_dc)
        if live_in(group, live) < need
    ]


def live_replicas(off_racks_dc1: int = 0, dc1_down: bool = False, dc2_down: bool = False):
    return {
        "DC1": 0 if dc1_down else RF["DC1"] - off_racks_dc1,
        "DC2": 0 if dc2_down else RF["DC2"],
    }


# pattern name → (power-off targets, coordinator node, live replicas seen by the coordinator)
PATTERNS = {
    "rack DC1/RAC2": (["DC1/RAC2"], "rpidc1r1n1", live_replicas(off_racks_dc1=1)),
    "racks DC1/RAC2+RAC3": (["DC1/RAC2", "DC1/RAC3"], "rpidc1r1n1", live_replicas(2)),
    "datacenter DC2": (["DC2"], "rpidc1r1n1", live_replicas(dc2_down=True)),
    "datacenter DC1": (["DC1"], "rpidc2r1n1", live_replicas(dc1_down=True)),
    "link DC1-DC2": (["link:DC1-DC2"], "rpidc1r2n1", live_replicas(dc2_down=True)),
}


@pytest.fixture(scope="module")
def keyspace(simulator):
    cluster = driver_cluster(simulator)
    create_keyspace(cluster.connect(), KEYSPACE, "kv (k text PRIMARY KEY, v int)")
    cluster.shutdown()
    return KEYSPACE


def view_settled(sim, observer: str, down: list[str]) -> bool:
    """``observer`` sees every node of ``down`` DOWN and every other node UP."""
    views = {n["name"]: n["views"] for n in sim.state()["nodes"] if n["name"] != observer}
    return all((views[name][observer] == "DOWN") == (name in down) for name in views)


def wait_until_settled(sim, observer: str, down: list[str], timeout: float = 20) -> None:
    """Until ``observer`` has convicted ``down`` and judges every other node alive.

    With nodes just cut, gossip still spends rounds on them (they count as live until
    convicted), so a reachable peer's heartbeats can come late enough for the fast detector
    to convict it for a round, as Cassandra's would: outcomes are judged in a settled view.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if view_settled(sim, observer, down):
            return
        time.sleep(0.2)
    raise AssertionError(f"{observer} did not settle on {down} DOWN within {timeout}s")


def nodes_cut_off(sim, targets: list[str], coordinator: str) -> list[str]:
    places = list(sim.inventory.nodes())
    coordinator_dc = sim.inventory.node(coordinator).dc
    names = []
    for target in targets:
        if target.startswith("link:"):
            names += [p.name for p in places if p.dc != coordinator_dc]
        elif "/" in target:
            dc, rack = target.split("/")
            names += [p.name for p in places if (p.dc, p.rack) == (dc, rack)]
        elif target in {p.dc for p in places}:
            names += [p.name for p in places if p.dc == target]
        else:
            names.append(target)
    return names


def outcome(session, statement, params):
    """The rows, or the Unavailable the coordinator answered with."""
    try:
        return session.execute(statement, params)
    except Unavailable as exc:
        return exc


class Judge:
    """Runs a statement in the coordinator's settled view and checks its outcome.

    A wrong outcome fails at once when the view is still settled right after it; only when
    the view was seen flapping (a reachable peer convicted for a round) is the statement
    tried again, in the settled view, at most three times.
    """

    def __init__(self, sim, session, coordinator: str, down: list[str]) -> None:
        self.sim, self.session, self.coordinator, self.down = sim, session, coordinator, down

    def __call__(self, statement, params, missing, what: str, check=lambda rows: None):
        for _ in range(3):
            wait_until_settled(self.sim, self.coordinator, self.down)
            result = outcome(self.session, statement, params)
            if isinstance(result, Unavailable):
                got = (result.required_replicas, result.alive_replicas)
                if got in missing:
                    return
            elif not missing:
                check(result)
                return
            if view_settled(self.sim, self.coordinator, self.down):
                break
        expected = f"Unavailable {missing}" if missing else "success"
        pytest.fail(f"{what}: expected {expected}, got {result!r}")


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_every_consistency_level_against_a_failure_pattern(sim, keyspace, pattern):
    targets, coordinator, live = PATTERNS[pattern]
    coordinator_dc = sim.inventory.node(coordinator).dc
    cluster, session = pinned_session(sim, coordinator, KEYSPACE)
    try:
        key = f"{pattern}-{uuid.uuid4()}"
        session.execute(
            SimpleStatement("INSERT INTO kv (k, v) VALUES (%s, 1)", consistency_level=CL.ALL), [key]
        )
        for target in targets:
            sim.power("off", target)
        judge = Judge(sim, session, coordinator, nodes_cut_off(sim, targets, coordinator))

        for level in WRITE_LEVELS:
            statement = SimpleStatement(
                "INSERT INTO kv (k, v) VALUES (%s, 2)", consistency_level=level
            )
            missing = [] if level == CL.ANY else shortfalls(level, coordinator_dc, live)
            judge(statement, [key], missing, f"{pattern}: write at {CL.value_to_name[level]}")

        def reads_2(rows) -> None:
            assert rows.one().v == 2

        for level in READ_LEVELS:
            statement = SimpleStatement("SELECT v FROM kv WHERE k = %s", consistency_level=level)
            missing = shortfalls(level, coordinator_dc, live)
            judge(
                statement, [key], missing, f"{pattern}: read at {CL.value_to_name[level]}", reads_2
            )

        with pytest.raises(InvalidRequest):
            session.execute(
                SimpleStatement("SELECT v FROM kv WHERE k = %s", consistency_level=CL.ANY), [key]
            )

        def applied(rows) -> None:
            assert rows.was_applied

        for serial in (CL.SERIAL, CL.LOCAL_SERIAL):
            lwt_key = f"{key}-{CL.value_to_name[serial]}"
            statement = SimpleStatement(
                "INSERT INTO kv (k, v) VALUES (%s, 3) IF NOT EXISTS",
                consistency_level=CL.ONE,
                serial_consistency_level=serial,
            )
            missing = shortfalls(serial, coordinator_dc, live)
            what = f"{pattern}: LWT at {CL.value_to_name[serial]}"
            judge(statement, [lwt_key], missing, what, applied)

        with pytest.raises(Unavailable):  # TRUNCATE needs every node of the cluster
            session.execute("TRUNCATE kv")
    finally:
        cluster.shutdown()


def test_unconvicted_dead_replica_times_out_instead_of_failing_fast(sim, keyspace):
    cluster, session = pinned_session(sim, "rpidc1r1n1", KEYSPACE)
    try:
        key = f"timeout-{uuid.uuid4()}"
        sim.power("off", "DC1/RAC2")  # silent; the coordinator still believes it is UP
        local_quorum = SimpleStatement(
            "INSERT INTO kv (k, v) VALUES (%s, 1)", consistency_level=CL.LOCAL_QUORUM
        )
        session.execute(local_quorum, [key])  # 2 of the 3 DC1 replicas answer
        started = time.monotonic()
        with pytest.raises(WriteTimeout) as failure:
            session.execute(
                SimpleStatement("INSERT INTO kv (k, v) VALUES (%s, 2)", consistency_level=CL.ALL),
                [key],
            )
        took = time.monotonic() - started
        timeout = sim.inventory.simulator.write_request_timeout_seconds
        assert timeout * 0.9 <= took < timeout + 3
        assert failure.value.required_responses == 6
        assert failure.value.received_responses == 5
    finally:
        cluster.shutdown()
