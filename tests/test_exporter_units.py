"""Exporter pieces that need no cluster: liveness rules, parsing, options and their errors."""

from __future__ import annotations

import argparse
import math

import pytest
from rackpanel.exporter.cli import add_arguments
from rackpanel.exporter.liveness import HeartbeatClock, conviction_seconds, judge
from rackpanel.exporter.options import ExporterSettings, from_args
from rackpanel.exporter.readings import EndpointId, GossipEntry
from rackpanel.exporter.sources.cql import gossip_status, parse_host_port
from rackpanel.exporter.sources.jolokia import endpoint_address, mbean_property
from rackpanel.settings import ConfigError, load_args

A = EndpointId("127.41.11.1", "DC1", "RAC1")
B = EndpointId("127.41.12.1", "DC1", "RAC2")
C = EndpointId("127.41.21.1", "DC2", "RAC1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entry(
    endpoint: EndpointId, heartbeat: int, status: str = "NORMAL", gen: int = 7
) -> GossipEntry:
    return GossipEntry(endpoint, gen, heartbeat, status)


def test_conviction_delay_follows_phi_convict_threshold():
    assert conviction_seconds(8) == pytest.approx(8 * math.log(10))  # ≈ 18.4 s, Cassandra's default
    assert conviction_seconds(2) == pytest.approx(4.605, abs=0.001)  # the simulator's fast setting


def test_heartbeat_age_counts_from_the_last_advance_and_a_restart_resets_it():
    clock = Clock()
    hb = HeartbeatClock(clock)
    assert hb.ages([entry(A, 10), entry(B, 20)]) == {A.address: 0.0, B.address: 0.0}
    clock.now += 3
    assert hb.ages([entry(A, 13), entry(B, 20)]) == {A.address: 0.0, B.address: 3.0}
    clock.now += 3
    assert hb.ages([entry(A, 16), entry(B, 20)])[B.address] == 6.0
    clock.now += 1
    # B restarted: new generation, heartbeat back to 1 — that is an advance
    assert hb.ages([entry(A, 17), entry(B, 1, gen=8)])[B.address] == 0.0
    # an endpoint gone from gossip is forgotten (memory stays bounded by the cluster)
    assert set(hb.ages([entry(A, 18)])) == {A.address}


def test_inferred_verdicts_status_first_then_heartbeat_age_local_always_up():
    entries = [entry(A, 1), entry(B, 1), entry(C, 1, status="shutdown")]
    ages = {A.address: 9.0, B.address: 4.0, C.address: 0.0}
    views = {v.endpoint.address: v.up for v in judge(entries, ages, A.address, 2.0, None)}
    assert views == {A.address: True, B.address: True, C.address: False}
    ages[B.address] = 4.7  # past 2 * ln 10 s
    views = {v.endpoint.address: v.up for v in judge(entries, ages, A.address, 2.0, None)}
    assert views[B.address] is False
    # default threshold 8: 4.7 s of silence is nothing yet
    assert {v.endpoint.address: v.up for v in judge(entries, ages, A.address, 8.0, None)}[B.address]


def test_the_failure_detector_wins_when_present():
    entries = [entry(A, 1), entry(B, 1), entry(C, 1)]
    ages = {A.address: 0.0, B.address: 100.0, C.address: 0.0}
    fd = {A.address: True, B.address: True, C.address: False}
    views = {v.endpoint.address: v.up for v in judge(entries, ages, A.address, 2.0, fd)}
    assert views == {A.address: True, B.address: True, C.address: False}


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("NORMAL,-4611686018427387904", "NORMAL"),
        ("shutdown,true", "shutdown"),
        ("LEFT,-123,1700000000000", "LEFT"),
        ("", None),
        (None, None),
    ],
)
def test_gossip_status_is_the_first_field(value, status):
    assert gossip_status(value) == status


@pytest.mark.parametrize(
    ("key", "address"),
    [
        ("/127.0.11.1:7000", "127.0.11.1"),
        ("rpidc1r1n1/192.168.1.11:7000", "192.168.1.11"),
        ("/10.0.0.1", "10.0.0.1"),
        ("/[::1]:7000", "::1"),
    ],
)
def test_failure_detector_keys_become_addresses(key, address):
    assert endpoint_address(key) == address


def test_mbean_properties():
    name = "org.apache.cassandra.metrics:name=Timeouts,scope=Write-LOCAL_QUORUM,type=ClientRequest"
    assert mbean_property(name, "scope") == "Write-LOCAL_QUORUM"
    assert mbean_property("java.lang:name=G1 Young Generation,type=GarbageCollector", "name") == (
        "G1 Young Generation"
    )


def test_host_port_parsing():
    assert parse_host_port("127.0.11.1", 9042) == ("127.0.11.1", 9042)
    assert parse_host_port("127.0.11.1:19042", 9042) == ("127.0.11.1", 19042)
    assert parse_host_port("[::1]:9500", 9042) == ("::1", 9500)
    for bad in ("host:port", ":9042", "h:70000"):
        with pytest.raises(ValueError, match="expected HOST"):
            parse_host_port(bad, 9042)


def parse(*argv: str) -> ExporterSettings:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return load_args(ExporterSettings, parser.parse_args(argv))


def test_defaults_and_jolokia_auto_url():
    options = from_args(parse("--cassandra", "127.41.11.1"))
    assert (options.listen_host, options.listen_port) == ("0.0.0.0", 9500)
    assert (options.cassandra_host, options.cassandra_port) == ("127.41.11.1", 9042)
    assert options.jolokia_url == "http://127.41.11.1:8778/jolokia/" and options.jolokia_auto
    assert options.interval == 5.0 and options.timeout == 5.0
    assert options.process_pattern == "org.apache.cassandra.service.CassandraDaemon"
    assert from_args(parse("--interval", "1")).timeout == 1.0
    assert from_args(parse("--jolokia", "none", "--process-pattern", "none")).jolokia_url is None
    assert from_args(parse("--process-pattern", "none")).process_pattern is None


def test_password_from_env_or_file_never_a_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("RACKPANEL_CQL_PASSWORD", "from-env")
    assert from_args(parse("--username", "monitor")).password == "from-env"
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    assert from_args(parse("--password-file", str(secret))).password == "from-file"
    with pytest.raises(ConfigError, match="never on the command line"):
        from_args(parse("--password", "x"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cassandra", "127.0.0.1:x"], "--cassandra: expected HOST"),
        (["--listen", "0.0.0.0:http"], "--listen: expected HOST"),
        (["--jolokia", "8778"], "--jolokia: expected a URL, auto or none"),
        (["--interval", "0"], "--interval: must be more than 0"),
        (["--timeout", "-1"], "--timeout: must be more than 0"),
        (["--tls-cert", "/nonexistent.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "/no/c.pem", "--tls-key", "/no/k.pem"], "--tls-cert: /no/c.pem: no such"),
        (["--password-file", "/no/pw"], "--password-file: /no/pw"),
    ],
)
def test_bad_options_name_the_option(argv, message):
    with pytest.raises(ConfigError, match=message):
        from_args(parse(*argv))


def test_bad_basic_auth_file_names_file_and_line(tmp_path):
    users = tmp_path / "users"
    users.write_text("# who may scrape\nprometheus:s3cret\nbroken-line\n")
    with pytest.raises(ConfigError, match=rf"{users}:3: expected user:password"):
        from_args(parse("--basic-auth-file", str(users)))


def test_without_heartbeats_peers_get_no_inferred_verdict():
    # Cassandra 4.0 has no gossip_info: endpoints come from system.peers_v2, no heartbeat.
    entries = [GossipEntry(A, None, None, None), GossipEntry(B, None, None, None)]
    views = {v.endpoint.address: v.up for v in judge(entries, {}, A.address, 8.0, None)}
    assert views == {A.address: True, B.address: None}  # no series rather than a guess
    fd = {B.address: False}
    assert [v.up for v in judge(entries, {}, A.address, 8.0, fd)] == [True, False]
