"""A catalogue of bad inventory files: careless edits, wrong encodings, hostile shapes.

Each case writes its file (or names a path) and says what the one-screen error must contain.
Used by tests/test_inventory_limits.py and benchmarks/reliability.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def demo() -> dict[str, Any]:
    return yaml.safe_load((REPO / "inventory.yml").read_text())


@dataclass(frozen=True)
class BadInput:
    name: str
    make: Callable[[Path], Path]  # writes the file into the folder, returns its path
    expect: str  # a fragment of the error message


def _text(text: str | bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "inventory.yml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return make


def _edit(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = copy.deepcopy(demo())
        change(data)
        path = folder / "inventory.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return make


def _set(dotted: str, value: object) -> Callable[[Path], Path]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = dotted.split(".")
        cursor: Any = data
        for part in parents:
            cursor = cursor[int(part)] if part.isdigit() else cursor.setdefault(part, {})
        cursor[int(last) if last.isdigit() else last] = value

    return _edit(change)


def _rack_of(count: int) -> Callable[[Path], Path]:
    def change(data: dict[str, Any]) -> None:
        rack = data["datacenters"][0]["racks"][0]
        rack["nodes"] = [
            {"name": f"rpidc1r1n{i}", "address": f"10.1.{i // 250}.{i % 250 + 1}"}
            for i in range(1, count + 1)
        ]

    return _edit(change)


def _many_racks(data: dict[str, Any]) -> None:
    dc2 = data["datacenters"][1]
    dc2["racks"] += [
        {"name": f"RAC{r}", "nodes": [{"name": f"x{r}", "address": f"10.2.{r}.1"}]}
        for r in range(2, 57)  # DC2's rack 56: default sim addresses 127.0.256.N
    ]


def _bad_nodes(data: dict[str, Any]) -> None:
    data["datacenters"][0]["racks"][0]["nodes"] += [
        {"name": f"bad node {i}", "address": "not-an-ip"} for i in range(3000)
    ]


def _laughs() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def _nested_block(depth: int) -> str:
    return "".join(f"{' ' * i}k{i}:\n" for i in range(depth)) + " " * depth + "v: 1\n"


def _device(path: str) -> Callable[[Path], Path]:
    return lambda _folder: Path(path)


def _folder(folder: Path) -> Path:
    (folder / "inventory.yml").mkdir()
    return folder / "inventory.yml"


def _missing(folder: Path) -> Path:
    return folder / "nope.yml"


def _big(folder: Path) -> Path:
    path = folder / "inventory.yml"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("cluster: {name: big}\ncomment: |\n")
        line = "  " + "x" * 98 + "\n"
        for _ in range(50 * 1024 * 1024 // len(line)):
            handle.write(line)
    return path


CASES: list[BadInput] = [
    BadInput("latin-1 file", _text("cluster: {name: Caf\xe9}\n".encode("latin-1")), "not UTF-8"),
    BadInput("UTF-16 file", _text("cluster: {name: x}\n".encode("utf-16")), "not UTF-8"),
    BadInput("NUL bytes", _text(b"cluster:\n\x00\x00 {}\n"), "line 2: not valid YAML"),
    BadInput("random bytes", _text(bytes(range(256)) * 4), "not UTF-8"),
    BadInput("deep flow nesting", _text("a: " + "[" * 10000 + "]" * 10000), "nest"),
    BadInput("deep block nesting", _text(_nested_block(1000)), "nested more than"),
    BadInput("list as a mapping key", _text("? [a, b]\n: 1\n"), "mapping key"),
    BadInput("mapping as a mapping key", _text("? {a: 1}\n: 1\n"), "mapping key"),
    BadInput("/dev/zero", _device("/dev/zero"), "not a regular file"),
    BadInput("a folder", _folder, "cannot read the file"),
    BadInput("missing file", _missing, "cannot read the file"),
    BadInput("50 MB file", _big, "over 1024 KiB"),
    BadInput("billion laughs", _text(_laughs()), "aliases"),
    BadInput("empty file", _text(""), "must be a mapping"),
    BadInput("top-level list", _text("- a\n- b\n"), "must be a mapping"),
    BadInput("a scalar", _text("hello\n"), "must be a mapping"),
    BadInput("duplicate key", _text("cluster: {}\ncluster: {}\n"), "duplicate key"),
    BadInput("bad indentation", _text("cluster:\n  name: a\n   bad: b\n"), "not valid YAML"),
    BadInput("python tag", _text("cluster: !!python/object:os.system {}\n"), "not valid YAML"),
    BadInput("rack of 256 nodes", _rack_of(256), "a rack holds at most 26"),
    BadInput("rack of 27 nodes", _rack_of(27), "a rack holds at most 26"),
    BadInput("56 racks in DC2", _edit(_many_racks), "127.0.256.N"),
    BadInput("3,000 bad nodes", _edit(_bad_nodes), "more"),
    BadInput("garbage admin_address", _set("simulator.admin_address", "demo"), "admin_address"),
    BadInput("admin port 99999", _set("simulator.admin_address", "127.0.0.1:99999"), "port"),
    BadInput("admin without port", _set("simulator.admin_address", "127.0.0.1"), "admin_address"),
    BadInput("phi .inf", _set("cluster.phi_convict_threshold", float("inf")), "finite"),
    BadInput("phi .nan", _set("cluster.phi_convict_threshold", float("nan")), "finite"),
    BadInput("gossip .inf", _set("simulator.gossip_interval_seconds", float("inf")), "finite"),
    BadInput("hint window -1", _set("simulator.max_hint_window_seconds", -1), "greater than 0"),
    BadInput("unknown key", _set("cluster.nmae", "x"), "unknown key 'nmae'"),
    BadInput("node address not an IP", _set("datacenters.0.racks.0.nodes.0.address", "pi"), "IPv4"),
    BadInput("num_tokens 0", _set("cluster.num_tokens", 0), "num_tokens"),
    BadInput("cql port 70000", _set("ports.cql", 70000), "ports.cql"),
    BadInput("unknown seed", _set("seeds", ["nobody"]), "names no node"),
    BadInput("RF above the nodes", _set("keyspace.replication", {"DC1": 9, "DC2": 3}), "above"),
    BadInput("writer in no DC", _set("writers.0.local_dc", "DC9"), "local_dc"),
    BadInput("colour 2", _set("datacenters.0.color", [2, 0, 0]), "color"),
    BadInput("cluster name a number", _set("cluster.name", 42), "cluster.name"),
    BadInput(
        "sim_address not loopback",
        _set("datacenters.0.racks.0.nodes.0.sim_address", "10.0.0.1"),
        "loopback",
    ),
    BadInput("datacenters a mapping", _set("datacenters", {"DC1": {}}), "datacenters"),
    BadInput("racks null", _set("datacenters.0.racks", None), "racks"),
]
