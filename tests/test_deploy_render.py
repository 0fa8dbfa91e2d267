"""What deploy renders from the inventory, without any host: merges, snitch files, units,
service configs (parsed by the services' own parsers), host selection, rolling order."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rackpanel.deploy.files import Action
from rackpanel.deploy.hosts import HostSelectionError, all_hosts, select_hosts
from rackpanel.deploy.render import files_for
from rackpanel.deploy.render.cassandra import cassandra_files, env_block, snitch_file
from rackpanel.deploy.render.services import exporter_config, writer_config
from rackpanel.deploy.rolling import is_up, observer_for, rolling_order
from rackpanel.deploy.services import action_command
from rackpanel.deploy.textmerge import BEGIN, END, MergeError, merge_yaml_keys, with_block
from rackpanel.settings import load, read_file
from rackpanel.topology import Inventory, parse_inventory

from tests.support.sshd import STOCK_CASSANDRA_ENV, STOCK_CASSANDRA_YAML

REPO = Path(__file__).resolve().parent.parent


def demo_with(**sections: dict) -> Inventory:
    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    return parse_inventory(raw)


# ---- merging into files the project does not own ---------------------------------------
def test_yaml_merge_sets_owned_keys_and_keeps_every_other_line():
    owned = {"cluster_name": "Panel", "seed_provider": [{"class_name": "X"}], "new_key": 3}
    merged = merge_yaml_keys(STOCK_CASSANDRA_YAML, owned, "cassandra.yaml")
    data = yaml.safe_load(merged)
    stock = yaml.safe_load(STOCK_CASSANDRA_YAML)
    assert {k: data[k] for k in owned} == owned
    assert {k: v for k, v in data.items() if k not in owned} == {
        k: v for k, v in stock.items() if k not in owned
    }
    replaced = ("cluster_name:", "seed_provider:", "  ")
    kept = [line for line in STOCK_CASSANDRA_YAML.splitlines() if not line.startswith(replaced)]
    merged_lines = merged.splitlines()
    assert all(line in merged_lines for line in kept)
    assert merge_yaml_keys(merged, owned, "cassandra.yaml") == merged  # idempotent


@pytest.mark.parametrize(
    ("text", "message"),
    [("a: [1,\n", "not valid YAML"), ("- just\n- a list\n", "not a YAML mapping")],
)
def test_yaml_merge_refuses_what_it_cannot_merge_safely(text, message):
    with pytest.raises(MergeError, match=f"/etc/cassandra/cassandra.yaml: .*{message}"):
        merge_yaml_keys(text, {"cluster_name": "x"}, "/etc/cassandra/cassandra.yaml")


def test_managed_block_is_added_replaced_and_placed_after_a_shebang():
    once = with_block("127.0.0.1 localhost\n", "10.0.0.1 a\n")
    assert once == f"127.0.0.1 localhost\n{BEGIN}\n10.0.0.1 a\n{END}\n"
    assert with_block(once, "10.0.0.1 a\n") == once
    assert with_block(once + "tail\n", "10.0.0.2 b\n") == (
        f"127.0.0.1 localhost\n{BEGIN}\n10.0.0.2 b\n{END}\ntail\n"
    )
    top = with_block(STOCK_CASSANDRA_ENV, "X=1\n", at_top=True)
    assert top.startswith(f"#!/bin/sh\n{BEGIN}\nX=1\n{END}\n# cassandra-env.sh")
    with pytest.raises(MergeError, match="unmatched"):
        with_block(f"{BEGIN}\nno end\n", "x")


# ---- Cassandra ---------------------------------------------------------------------------
def test_snitch_file_follows_the_inventory_snitch():
    inv = demo_with()
    place = inv.node("rpidc1r2n1")
    name, text = snitch_file(inv, place)
    assert name == "cassandra-rackdc.properties"
    assert "\ndc=DC1\nrack=RAC2\n" in text

    pfs = demo_with(cluster={"snitch": "PropertyFileSnitch"})
    name, text = snitch_file(pfs, pfs.node("rpidc1r2n1"))
    assert name == "cassandra-topology.properties"
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == [f"{p.address}={p.dc}:{p.rack}" for p in pfs.nodes()]


def test_heap_and_jolokia_agent_lines():
    # 5.0 (G1): the heap alone; 4.1 (CMS): the heap and the young generation, in a pair
    plain = demo_with(cluster={"heap": "768M", "heap_new": "200M"})
    block = env_block(plain, plain.node("rpidc2r1n3"))
    assert block == 'MAX_HEAP_SIZE="768M"\n'
    old = demo_with(cluster={"heap": "768M", "heap_new": "200M", "cassandra_version": "4.1.7"})
    block = env_block(old, old.node("rpidc2r1n3"))
    assert block == 'MAX_HEAP_SIZE="768M"\nHEAP_NEWSIZE="200M"\n'
    with_agent = demo_with(cluster={"jolokia": True})
    block = env_block(with_agent, with_agent.node("rpidc2r1n3"))
    agent = "/usr/share/java/jolokia-jvm-agent.jar=host=192.168.11.43,port=8778"
    assert f'JVM_OPTS="$JVM_OPTS -javaagent:{agent}"' in block


def test_naming_the_agent_jar_turns_jolokia_on_unless_the_cluster_says_false(tmp_path):
    from rackpanel.deploy.check import jolokia_hint

    jar = tmp_path / "jolokia-jvm-1.6.2-agent.jar"
    named = demo_with(deploy={"jolokia_jar": str(jar)})
    refused = demo_with(deploy={"jolokia_jar": str(jar)}, cluster={"jolokia": False})
    plain = demo_with()
    assert [named.jolokia_on(), refused.jolokia_on(), plain.jolokia_on()] == [True, False, False]
    node = "rpidc1r1n2"
    assert "-javaagent:" in env_block(named, named.node(node))
    assert exporter_config(named, named.node(node))["jolokia"].startswith("http://")
    assert "-javaagent:" not in env_block(refused, refused.node(node))
    # `deploy check` says how to get the agent only when nobody decided yet
    assert "deploy.jolokia_jar" in (jolokia_hint(plain, all_hosts(plain)) or "")
    assert jolokia_hint(named, all_hosts(named)) is None
    assert jolokia_hint(refused, all_hosts(refused)) is None


def test_cassandra_files_need_the_installed_files():
    inv = demo_with()
    yaml_file = cassandra_files(inv, inv.node("rpidc1r1n1"))[0]
    with pytest.raises(MergeError, match=r"cassandra\.yaml is missing: install Cassandra first"):
        yaml_file.render(None)
    conf = yaml.safe_load(yaml_file.render(STOCK_CASSANDRA_YAML))
    seeds = conf["seed_provider"][0]["parameters"][0]["seeds"]
    assert seeds == "192.168.11.11,192.168.11.21,192.168.11.41"
    assert conf["num_tokens"] == 16 and conf["phi_convict_threshold"] == 8


# ---- the services' config files, read by the services' own parsers -----------------------
def _parsed(model, config: dict, tmp_path: Path) -> dict:
    path = tmp_path / "service.yml"
    path.write_text(yaml.safe_dump(config))
    load(model, config_file=str(path))  # every key known, every value valid
    return read_file(model, str(path))


def test_exporter_config_uses_the_exporter_options(tmp_path):
    from rackpanel.exporter.options import ExporterSettings

    inv = demo_with(cluster={"jolokia": True})
    values = _parsed(ExporterSettings, exporter_config(inv, inv.node("rpidc1r1n2")), tmp_path)
    assert values["cassandra"] == "192.168.11.12:9042"
    assert values["jolokia"] == "http://192.168.11.12:8778/jolokia/"
    assert values["gc_log"] == "/var/log/cassandra/gc.log"
    plain = demo_with()
    assert exporter_config(plain, plain.node("rpidc1r1n2"))["jolokia"] == "none"


def test_writer_config_uses_the_writer_options(tmp_path):
    from rackpanel.lcd_writer.options import WriterSettings

    inv = demo_with()
    place = next(w for w in inv.writer_places() if w.name == "rpidc2user")
    values = _parsed(WriterSettings, writer_config(inv, place), tmp_path)
    assert values["local_dc"] == "DC2"
    assert values["contact_points"] == [
        "192.168.11.41:9042",
        "192.168.11.42:9042",
        "192.168.11.43:9042",
    ]
    assert values["replication"] == ["DC1:3", "DC2:3"]
    assert values["colors"] == ["DC1=0,1,0", "DC2=0,0,1"]
    assert values["display"] == "adafruit"


def test_every_host_gets_its_role_files():
    inv = demo_with()
    paths = {h.name: {f.path for f in files_for(inv, h)} for h in all_hosts(inv)}
    assert "/etc/cassandra/cassandra.yaml" in paths["rpidc2r1n3"]
    assert "/etc/systemd/system/rackpanel-exporter.service" in paths["rpidc2r1n3"]
    assert "/etc/rackpanel/writer.yml" in paths["rpidc1user"]
    assert "/etc/prometheus/prometheus.yml" in paths["rpimonitor"]
    assert "/etc/cassandra/cassandra.yaml" not in paths["rpimonitor"]
    assert all({"/etc/hostname", "/etc/hosts"} <= p for p in paths.values())


# ---- hosts, order, actions ---------------------------------------------------------------
def test_limit_selects_hosts_by_name_dc_or_rack_and_names_unknown_ones():
    inv = demo_with()
    assert [h.name for h in select_hosts(inv, ["DC1/RAC2", "rpimonitor"])] == [
        "rpidc1r2n1",
        "rpidc1r2n2",
        "rpimonitor",
    ]
    assert len(select_hosts(inv, ["DC2"])) == 3
    with pytest.raises(HostSelectionError, match=r"--limit 'rpi9' names no host .*rpidc1r1n1"):
        select_hosts(inv, ["rpi9"])


def test_rolling_order_is_seeds_first_and_observers_are_known_up():
    inv = demo_with()
    order = [h.name for h in rolling_order(inv, all_hosts(inv))]
    assert order[:3] == ["rpidc1r1n1", "rpidc1r2n1", "rpidc2r1n1"]
    assert sorted(order[3:]) == sorted(p.name for p in inv.nodes() if p.name not in inv.seeds)
    hosts = {h.name: h for h in all_hosts(inv)}
    node = hosts["rpidc1r1n2"]
    assert observer_for(inv, node, [], {"rpidc1r1n2"}).name == "rpidc1r1n1"
    assert observer_for(inv, node, [hosts["rpidc2r1n1"]], set()).name == "rpidc2r1n1"
    every = {p.name for p in inv.nodes()}
    assert observer_for(inv, node, [], every).name == "rpidc1r1n2"


def test_nodetool_status_parsing():
    status = (
        "Datacenter: DC1\n===============\nStatus=Up/Down\n|/ State=Normal/Leaving\n"
        "--  Address        Load       Tokens  Owns  Host ID  Rack\n"
        "UN  192.168.11.11  1.2 MiB    16      ?     1f2e...  RAC1\n"
        "DN  192.168.11.12  1.1 MiB    16      ?     3a4b...  RAC1\n"
        "UJ  192.168.11.21  0 bytes    16      ?     5c6d...  RAC2\n"
        "UN  192.168.11.22:7000  1 MiB 16      ?     7e8f...  RAC2\n"
    )
    assert is_up(status, "192.168.11.11")
    assert not is_up(status, "192.168.11.12")
    assert not is_up(status, "192.168.11.21")  # joining is not up yet
    assert is_up(status, "192.168.11.22")
    assert not is_up(status, "192.168.11.1")


def test_service_actions_for_systemd_and_a_test_recorder():
    assert action_command("systemd", "n1", Action("restart", "cassandra")) == (
        "systemctl restart cassandra"
    )
    assert action_command("systemd", "n1", Action("daemon-reload")) == "systemctl daemon-reload"
    assert action_command("systemd", "n1", Action("set-hostname", "n1")) == (
        "hostnamectl set-hostname n1"
    )
    assert action_command("/x/rec /logs/{host}.log", "n1", Action("restart", "a b")) == (
        "/x/rec /logs/n1.log restart 'a b'"
    )


def test_secrets_stay_out_of_the_inventory_and_the_logs():
    from rackpanel.deploy.ssh import Credentials
    from rackpanel.topology import InventoryError

    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    raw["deploy"] = {"ssh_user": "pi", "password": "raspberry"}
    with pytest.raises(InventoryError, match="deploy: unknown key 'password'"):
        parse_inventory(raw)
    creds = Credentials("pi", None, Path("known_hosts"), sudo_password="s3cret")
    assert "s3cret" not in repr(creds)


def test_deploy_commands_know_only_the_host_placeholder():
    from rackpanel.topology import InventoryError

    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    raw["deploy"] = {"service_manager": "/usr/local/bin/rec {hostname}"}
    with pytest.raises(InventoryError, match=r"deploy\.service_manager: .*\{host\} placeholder"):
        parse_inventory(raw)


def test_cli_refuses_a_missing_key_and_an_unknown_host_before_connecting(tmp_path, capsys):
    from rackpanel.cli import main

    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    raw["deploy"] = {"identity_file": "keys/absent"}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["deploy", "check", "--inventory", str(path)]) == 2
    assert f"deploy.identity_file: {tmp_path / 'keys/absent'} does not exist" in (
        capsys.readouterr().err
    )
    assert main(["deploy", "plan", "--limit", "rpi9", "--inventory", str(path)]) == 2
    assert "--limit 'rpi9' names no host of the inventory" in capsys.readouterr().err


def test_systemd_accepts_the_rendered_units(tmp_path):
    import shutil
    import subprocess

    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # an extra check where systemd is installed; not a required binary
        pytest.skip("systemd-analyze is not installed")
    import sys

    # verify checks ExecStart's program exists: the Pis' /opt/rackpanel venv is not here
    inv = demo_with(deploy={"python": sys.executable})
    writer = next(inv.writer_places())
    units = [
        f
        for f in [*files_for(inv, all_hosts(inv)[0]), *files_for(inv, all_hosts(inv)[9])]
        if f.unit_file
    ]
    assert {u.path.rsplit("/", 1)[1] for u in units} == {
        "rackpanel-exporter.service",
        "rackpanel-writer.service",
    }
    assert all_hosts(inv)[9].writer == writer
    paths = []
    for spec in units:
        path = tmp_path / spec.path.rsplit("/", 1)[1]
        path.write_text(spec.render(None))
        paths.append(str(path))
    done = subprocess.run([analyze, "verify", "--man=no", *paths], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("cassandra", "java", "refused"),
    [
        ("5.0.6", "17.0.15", None),
        ("5.0.6", "11.0.25", None),
        ("5.0.6", "1.8.0_392", "runs on Java 11 or 17 only"),
        ("4.1.7", "11.0.25", None),
        ("4.1.7", "1.8.0_392", None),
        ("4.1.7", "17.0.15", "-XX:+UseConcMarkSweepGC, which Java 14 and later reject"),
        ("4.1.7", "21.0.5", "runs on Java 8 or 11 only, this host has 21.0.5"),
    ],
)
def test_deploy_check_refuses_a_java_the_release_does_not_run_on(cassandra, java, refused):
    from rackpanel.deploy.check import java_problem

    problem = java_problem(cassandra, java)
    assert (problem is None) if refused is None else (refused in (problem or ""))
