"""Inventories for tests that run a whole stack of their own beside the session simulator."""

from __future__ import annotations

from pathlib import Path

import yaml
from rackpanel.topology import Inventory, load_inventory

REPO = Path(__file__).resolve().parents[2]


def shifted_inventory(directory: Path, second_octet: int, **overrides: object) -> Path:
    """A copy of the demo inventory whose simulator addresses live in 127.<second_octet>.x.y.

    Node rpidc1r2n1 gets 127.<k>.12.1, writers 127.<k>.<dc>0.1, the monitor 127.<k>.0.1, so a
    test's own simulator, exporters, writers and Prometheus never collide with the session
    simulator (127.0.x.y). ``overrides`` replace top-level sections (e.g. ``simulator={...}``).
    """
    if not 1 <= second_octet <= 254:
        raise ValueError("second_octet must be 1..254")
    base: Inventory = load_inventory(REPO / "inventory.yml")
    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    places = {p.name: p for p in base.nodes()}
    for dc in raw["datacenters"]:
        for rack in dc["racks"]:
            for node in rack["nodes"]:
                octets = str(places[node["name"]].sim_address).split(".")
                node["sim_address"] = f"127.{second_octet}.{octets[2]}.{octets[3]}"
    writer_sims = {w.name: str(w.sim_address) for w in base.writer_places()}
    for writer in raw.get("writers", []):
        octets = writer_sims[writer["name"]].split(".")
        writer["sim_address"] = f"127.{second_octet}.{octets[2]}.{octets[3]}"
    if raw.get("monitor"):
        raw["monitor"]["sim_address"] = f"127.{second_octet}.0.1"
    raw.update(overrides)
    path = directory / f"inventory-127-{second_octet}.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    load_inventory(path)  # fail here, not in the test, if the copy is invalid
    return path


def generated_inventory(
    directory: Path, second_octet: int, racks: int = 4, per_rack: int = 25, num_tokens: int = 16
) -> Path:
    """A two-DC inventory of ``2 * racks * per_rack`` nodes in 127.<second_octet>.x.y.

    Node ``bench<dc>r<rack>n<n>`` simulates at 127.<k>.<dc><rack>.<n>; its real address
    (never contacted) is 10.<dc>.<rack>.<n>. Seeds: the first node of each DC.
    """
    datacenters = [
        {
            "name": f"DC{dc}",
            "racks": [
                {
                    "name": f"RAC{r}",
                    "nodes": [
                        {
                            "name": f"bench{dc}r{r}n{n}",
                            "address": f"10.{dc}.{r}.{n}",
                            "sim_address": f"127.{second_octet}.{dc}{r}.{n}",
                        }
                        for n in range(1, per_rack + 1)
                    ],
                }
                for r in range(1, racks + 1)
            ],
        }
        for dc in (1, 2)
    ]
    inventory = {
        "cluster": {"name": "Bench Cluster", "num_tokens": num_tokens},
        "datacenters": datacenters,
        "seeds": ["bench1r1n1", "bench2r1n1"],
        "keyspace": {"name": "bench", "replication": {"DC1": 3, "DC2": 3}},
        "writers": [],
        "monitor": {
            "name": "benchmon",
            "address": "10.0.0.1",
            "sim_address": f"127.{second_octet}.0.1",
        },
    }
    path = directory / f"inventory-{racks * per_rack * 2}.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    load_inventory(path)  # fail here if the generated file is invalid
    return path


def scaled_inventory_file(directory: Path, racks: int, per_rack: int, octet: int) -> Path:
    """What `rackpanel scale` writes for the demo inventory: two DCs of ``racks`` racks of
    ``per_rack`` nodes simulated in 127.<octet>.0.0/16 (the command itself, run in-process)."""
    from rackpanel.cli import main

    path = directory / f"inventory-{2 * racks * per_rack}.yml"
    args = ["--inventory", str(REPO / "inventory.yml"), "--racks", str(racks)]
    args += ["--nodes-per-rack", str(per_rack), "--octet", str(octet), "--out", str(path)]
    if main(["scale", *args]) != 0:
        raise RuntimeError(f"rackpanel scale {' '.join(args)} failed")
    return path
