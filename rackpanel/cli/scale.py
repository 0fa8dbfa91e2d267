"""`rackpanel scale`: write the inventory of a bigger simulated cluster, to rehearse at scale.

    rackpanel scale --dcs 2 --racks 20 --nodes-per-rack 25 --out inventory-1000.yml
    rackpanel sim --inventory inventory-1000.yml

The new file keeps the current inventory's cluster settings and keyspace name and replaces its
topology (see :mod:`rackpanel.topology.scaled` for the addresses and settings it picks). It is
checked by the inventory loader before it is written, and written whole or not at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = (
    "write the inventory of a bigger simulated cluster (DCs x racks x nodes) to rehearse at scale"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rackpanel.settings import add_inventory_argument

    add_inventory_argument(parser)
    parser.add_argument("--dcs", type=int, default=2, help="datacenters (default 2)")
    parser.add_argument("--racks", type=int, required=True, help="racks in each DC")
    parser.add_argument("--nodes-per-rack", type=int, required=True, help="nodes in each rack")
    parser.add_argument(
        "--octet",
        type=int,
        default=1,
        help="simulator addresses in 127.OCTET.0.0/16 (default 1; the demo uses 127.0.x.y)",
    )
    parser.add_argument(
        "--failure-detector",
        choices=["realistic", "fast"],
        default="realistic",
        help="realistic (phi 8, default: phi 2 flaps at a few hundred nodes) or fast",
    )
    parser.add_argument("--out", "-o", required=True, metavar="FILE", help="file to write, or -")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def render(inv, size: int) -> str:
    import yaml

    data = inv.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    header = (
        f"# A simulated cluster of {size} nodes written by `rackpanel scale`: the hosts do not\n"
        "# exist (addresses from 198.18.0.0/15). Run it with: rackpanel sim --inventory THIS_FILE\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)


def run(args: argparse.Namespace) -> int:
    import yaml

    from rackpanel.cli.generate import write_atomically
    from rackpanel.topology import load_inventory, parse_inventory
    from rackpanel.topology.scaled import ScaleError, scaled_inventory

    base = load_inventory(args.inventory)
    try:
        inv = scaled_inventory(
            base,
            dcs=args.dcs,
            racks=args.racks,
            nodes_per_rack=args.nodes_per_rack,
            octet=args.octet,
            failure_detector=args.failure_detector,
        )
    except ScaleError as exc:
        print(f"rackpanel scale: {exc}", file=sys.stderr)
        return 2
    size = sum(1 for _ in inv.nodes())
    text = render(inv, size)
    parse_inventory(yaml.safe_load(text), "the rendered inventory")  # it must load back
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    target = Path(args.out)
    if target.exists() and not args.force:
        print(f"rackpanel scale: {target} exists; use --force to replace it", file=sys.stderr)
        return 2
    write_atomically(target, text)
    print(f"wrote {target}: {size} nodes; run it with: rackpanel sim --inventory {target}")
    return 0
