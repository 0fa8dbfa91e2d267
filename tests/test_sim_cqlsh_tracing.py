"""TRACING ON in the real cqlsh 6.2.2: the request gets a session id (Tracing/TraceState), the
trace is read back from system_traces.sessions and .events (TraceKeyspace's columns), and its
events say which replicas the coordinator contacted and which answered."""

from __future__ import annotations

from tests.support.cqlsh import piped

SETUP = (
    "CREATE KEYSPACE IF NOT EXISTS trace_ks WITH replication = "
    "{'class': 'NetworkTopologyStrategy', 'DC1': 3, 'DC2': 3};\n"
    "CREATE TABLE IF NOT EXISTS trace_ks.kv (k int PRIMARY KEY, v int);\n"
)


def test_tracing_shows_the_coordinator_and_each_replica(sim, tmp_path):
    out = piped(
        sim,
        tmp_path,
        SETUP + "TRACING ON;\nCONSISTENCY LOCAL_QUORUM;\n"
        "INSERT INTO trace_ks.kv (k, v) VALUES (1, 1);\nSELECT * FROM trace_ks.kv WHERE k = 1;\n",
    )
    assert out.count("Tracing session: ") == 2
    assert "Parsing INSERT INTO trace_ks.kv (k, v) VALUES (1, 1);" in out
    assert "at LOCAL_QUORUM" in out
    assert out.count("Sending MUTATION message to /") == 6  # a write goes to every replica
    assert "Appending to commitlog [MutationStage-1]" in out
    # a LOCAL_QUORUM read contacts the two closest DC1 replicas only
    assert out.count("Sending READ message to /") == 2
    assert out.count("not contacted: LOCAL_QUORUM needs no more replicas") == 4
    assert "Request complete" in out


def test_tracing_names_the_replicas_that_stay_silent_or_are_down(sim, tmp_path):
    piped(sim, tmp_path, SETUP)
    sim.power("off", "DC2")
    out = piped(
        sim,
        tmp_path,
        "TRACING ON;\nCONSISTENCY ONE;\nINSERT INTO trace_ks.kv (k, v) VALUES (2, 2);\n",
    )
    silent = out.count("(power cut or DC link down)")
    down = out.count("is DOWN in this node's view: not contacted; hint written for it")
    assert silent + down == 3  # DC2's three replicas, silent until convicted, then DOWN
