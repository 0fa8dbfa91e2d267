"""One source for a writer's options: the demo, compose and deploy tell it the same things."""

from __future__ import annotations

import argparse

import yaml
from rackpanel.deploy.render.services import writer_config
from rackpanel.lcd_writer.cli import add_arguments
from rackpanel.lcd_writer.options import WriterSettings
from rackpanel.settings import load_args
from rackpanel.topology.service_options import as_argv, writer_options

from rackpanel.compose import writer_service
from rackpanel.demo.stack import writer_services


def writer_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser


def test_every_placement_gives_the_writer_the_same_cluster_facts(demo_inventory, tmp_path):
    parser = writer_parser()
    place = next(demo_inventory.writer_places())
    demo = next(s for s in writer_services(demo_inventory) if s.name.endswith(place.name))
    demo_argv = demo.argv[demo.argv.index("writer") + 1 :]
    from_demo = load_args(WriterSettings, parser.parse_args(demo_argv))
    compose_cmd = writer_service(demo_inventory, place.name)["command"]
    from_compose = load_args(WriterSettings, parser.parse_args(compose_cmd[1:]))
    deployed = tmp_path / "writer.yml"
    deployed.write_text(yaml.safe_dump(writer_config(demo_inventory, place)))
    from_deploy = load_args(WriterSettings, parser.parse_args(["--config", str(deployed)]))
    for field in (
        "name",
        "local_dc",
        "keyspace",
        "replication",
        "used_hosts_per_remote_dc",
        "colors",
    ):
        values = {repr(getattr(a, field)) for a in (from_demo, from_compose, from_deploy)}
        assert len(values) == 1, f"{field} differs between demo, compose and deploy: {values}"
    assert from_demo.contact_points != from_deploy.contact_points  # loopback vs the Pis


def test_as_argv_spells_flags_lists_and_switches():
    assert as_argv({"a": "x", "b": True, "c": False, "d": None, "e": [1, 2]}) == [
        "--a",
        "x",
        "--b",
        "--e",
        "1",
        "2",
    ]


def test_colours_come_from_the_datacenters(demo_inventory):
    place = next(demo_inventory.writer_places())
    options = writer_options(demo_inventory, place, contact_points=[], listen="x:1", display="none")
    assert options["colors"] == ["DC1=0,1,0", "DC2=0,0,1"]


def test_every_placement_gives_the_exporter_options_it_accepts(demo_inventory, tmp_path):
    from rackpanel.exporter.cli import add_arguments as add_exporter_arguments
    from rackpanel.exporter.options import ExporterSettings
    from rackpanel.exporter.options import from_args as exporter_from_args
    from rackpanel.topology.placement import PLACEMENTS, host
    from rackpanel.topology.service_options import exporter_options

    parser = argparse.ArgumentParser()
    add_exporter_arguments(parser)
    place = next(demo_inventory.nodes())
    for placement in PLACEMENTS:
        argv = as_argv(exporter_options(demo_inventory, place, placement))
        settings = load_args(ExporterSettings, parser.parse_args(argv))
        options = exporter_from_args(settings)
        assert options.cassandra_port == demo_inventory.ports.cql, placement
        assert options.listen_port == demo_inventory.ports.exporter, placement
        if placement != "compose":  # in compose the exporter shares the node's loopback
            assert options.cassandra_host == host(place, placement), placement
