"""docker-compose.yml: valid against the Compose specification and faithful to the inventory."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rackpanel.topology import load_inventory

from rackpanel.compose import compose_document, files, node_order, node_services
from rackpanel.compose_image import AGENT_PATH, JOLOKIA_SHA1, image_name, verify_command

REPO = Path(__file__).resolve().parent.parent


def check_against_compose_spec(path: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("inventory", ["inventory.yml", "inventory.small.yml"])
def test_generated_compose_validates_against_the_spec(tmp_path, inventory):
    doc = compose_document(load_inventory(REPO / inventory))
    target = tmp_path / "docker-compose.yml"
    target.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = check_against_compose_spec(target)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_file(tmp_path):
    doc = compose_document(load_inventory(REPO / "inventory.yml"))
    doc["services"]["rpidc1r1n1"]["healthcheck"]["retries"] = "many"
    doc["services"]["rpidc1r1n1"]["ports"] = {"not": "a list"}
    target = tmp_path / "docker-compose.yml"
    target.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert check_against_compose_spec(target).returncode != 0


def test_committed_compose_matches_the_inventory(demo_inventory):
    doc = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = doc["services"]
    for place in demo_inventory.nodes():
        node = services[place.name]
        env = node["environment"]
        assert node["image"] == image_name(demo_inventory)
        assert node["build"] == {
            "context": "compose/cassandra",
            "args": {"CASSANDRA_VERSION": demo_inventory.cluster.cassandra_version},
        }
        assert env["JVM_EXTRA_OPTS"] == f"-javaagent:{AGENT_PATH}=host=127.0.0.1,port=8778"
        assert "HEAP_NEWSIZE" not in env  # 5.0's G1 sizes its young generation itself
        assert (env["CASSANDRA_DC"], env["CASSANDRA_RACK"]) == (place.dc, place.rack)
        assert env["CASSANDRA_ENDPOINT_SNITCH"] == "GossipingPropertyFileSnitch"
        assert env["CASSANDRA_SEEDS"].split(",") == demo_inventory.seeds
        assert env["CASSANDRA_CLUSTER_NAME"] == demo_inventory.cluster.name
        assert "healthcheck" in node
        exporter = services[f"exporter-{place.name}"]
        assert exporter["network_mode"] == f"service:{place.name}"
        assert exporter["pid"] == f"service:{place.name}"
        assert any(v.startswith(f"{place.name}-logs:") for v in exporter["volumes"])
        command = exporter["command"]
        assert command[command.index("--jolokia") + 1] == "http://127.0.0.1:8778/jolokia/"
    for writer in demo_inventory.writers:
        command = services[writer.name]["command"]
        assert command[0] == "writer"
        assert command[command.index("--local-dc") + 1] == writer.local_dc
    assert {"prometheus", "alertmanager", "grafana"} <= set(services)


def test_compose_prometheus_targets_cover_every_node_and_writer(demo_inventory):
    import json

    targets_dir = REPO / "compose" / "prometheus" / "targets"
    seen: dict[str, dict[str, str]] = {}
    for path in targets_dir.glob("*.json"):
        for group in json.loads(path.read_text()):
            for target in group["targets"]:
                seen[target] = group["labels"]
    for place in demo_inventory.nodes():
        labels = seen[f"{place.name}:{demo_inventory.ports.exporter}"]
        assert (labels["dc"], labels["rack"], labels["node"]) == (place.dc, place.rack, place.name)
        assert labels["cluster"] == demo_inventory.cluster.name
    for writer in demo_inventory.writers:
        assert f"{writer.name}:{demo_inventory.ports.writer}" in seen


def test_seeds_start_first_and_nodes_join_one_at_a_time(demo_inventory):
    order = node_order(demo_inventory)
    assert order[:3] == demo_inventory.seeds
    services = compose_document(demo_inventory)["services"]
    assert "depends_on" not in services[order[0]]
    for previous, name in itertools.pairwise(order):
        assert services[name]["depends_on"] == {previous: {"condition": "service_healthy"}}


def test_power_targets_map_to_the_node_and_its_exporter(demo_inventory):
    assert node_services(demo_inventory, "DC1/RAC2") == [
        "rpidc1r2n1",
        "exporter-rpidc1r2n1",
        "rpidc1r2n2",
        "exporter-rpidc1r2n2",
    ]
    assert len(node_services(demo_inventory, "DC2")) == 6
    assert node_services(demo_inventory, "rpidc2r1n3") == ["rpidc2r1n3", "exporter-rpidc2r1n3"]
    with pytest.raises(ValueError, match="unknown target 'DC9'"):
        node_services(demo_inventory, "DC9")
    with pytest.raises(ValueError, match="DC link"):
        node_services(demo_inventory, "link:DC1-DC2")


def test_power_compose_runs_docker_compose_on_the_targets_containers(tmp_path):
    """No Docker engine here: a recording `docker` on PATH shows the exact call that is made."""
    import os
    import stat

    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "calls"
    fake = bindir / "docker"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {record}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    rackpanel = str(Path(sys.executable).with_name("rackpanel"))
    base = [rackpanel, "power", "--inventory", str(REPO / "inventory.yml")]
    off = subprocess.run(
        [*base, "off", "DC1/RAC1", "--compose"], env=env, capture_output=True, text=True
    )
    assert off.returncode == 0, off.stderr
    on = subprocess.run(
        [*base, "on", "DC1/RAC1", "--compose"], env=env, capture_output=True, text=True
    )
    assert on.returncode == 0, on.stderr
    bad = subprocess.run(
        [*base, "off", "DC9", "--compose"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "unknown target 'DC9'" in bad.stderr
    services = "rpidc1r1n1 exporter-rpidc1r1n1 rpidc1r1n2 exporter-rpidc1r1n2"
    assert record.read_text().splitlines() == [
        f"compose -f docker-compose.yml kill -s SIGKILL {services}",
        f"compose -f docker-compose.yml start {services}",
    ]


def test_grafana_reads_its_settings_where_it_looks_for_them(demo_inventory):
    """No grafana.ini under provisioning/ (Grafana never reads one there): the settings are
    GF_* variables of the container, which the grafana image does read."""
    generated = files(demo_inventory)
    assert not [name for name in generated if name.endswith("grafana.ini")]
    env = compose_document(demo_inventory)["services"]["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].endswith("rackpanel-panel.json")


def test_the_cassandra_image_adds_a_pinned_jolokia_agent_and_refuses_another(tmp_path):
    """No Docker engine or Maven here: the Dockerfile is read, and its checksum step is run on
    a tampered jar (the build must fail) and on a jar whose checksum is the pinned one."""
    text = (REPO / "compose" / "cassandra" / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[:2] == ["ARG CASSANDRA_VERSION", "FROM cassandra:${CASSANDRA_VERSION}"]
    add, run = lines[2].split(), lines[3].removeprefix("RUN ")
    assert add[0] == "ADD" and add[2] == AGENT_PATH
    assert add[1].endswith("/org/jolokia/jolokia-jvm/1.6.2/jolokia-jvm-1.6.2-agent.jar")
    assert JOLOKIA_SHA1 in run and len(JOLOKIA_SHA1) == 40
    jar = tmp_path / "jolokia-agent.jar"
    jar.write_bytes(b"PK\x03\x04 not the agent")
    step = run.replace(AGENT_PATH, str(jar))
    tampered = subprocess.run(["sh", "-c", step], capture_output=True, text=True)
    assert tampered.returncode != 0 and "FAILED" in tampered.stdout + tampered.stderr
    good = hashlib.sha1(jar.read_bytes()).hexdigest()
    same = verify_command(str(jar)).replace(JOLOKIA_SHA1, good)
    assert subprocess.run(["sh", "-c", same], capture_output=True).returncode == 0
