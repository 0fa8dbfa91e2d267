"""`rackpanel demo`: the whole demo on this machine, on the embedded simulator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "run the whole demo on this machine (embedded simulator by default)"
# One exporter process per node (≈ 75 MB RSS each, benchmarks/scale_monitoring.py): 40 nodes
# already take 3 GB. Bigger rehearsal clusters run in `rackpanel sim` (README, "Rehearsing").
MAX_NODES = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rackpanel.settings import add_inventory_argument

    add_inventory_argument(parser)
    parser.add_argument(
        "--run-dir",
        default=".rackpanel/run",
        help="where generated configs, logs and endpoints.json go (default: .rackpanel/run)",
    )
    parser.add_argument(
        "--no-ui", action="store_true", help="headless: run until SIGINT/SIGTERM, no terminal panel"
    )
    parser.add_argument(
        "--failure-detector",
        choices=["fast", "realistic"],
        default="fast",
        help="simulated failure-detector delay: fast (≈5 s, default) or realistic (≈18 s)",
    )
    parser.add_argument(
        "--no-prometheus", action="store_true", help="do not start Prometheus/Alertmanager"
    )
    parser.add_argument("--no-grafana", action="store_true", help="do not start Grafana")
    parser.add_argument(
        "--web-port",
        type=int,
        default=8080,
        metavar="PORT",
        help="the web panel's port on the monitor's address (default 8080)",
    )
    parser.add_argument("--no-web", action="store_true", help="do not serve the web panel")
    parser.add_argument(
        "--max-nodes",
        type=int,
        default=MAX_NODES,
        metavar="N",
        help=f"refuse inventories of more nodes (default {MAX_NODES}): the demo runs one "
        "exporter process per node, about 75 MB each",
    )


def run(args: argparse.Namespace) -> int:
    import os

    from rackpanel.demo.ports import PortInUse
    from rackpanel.demo.run import run_demo
    from rackpanel.demo.stack import StackOptions
    from rackpanel.demo.supervisor import ServiceFailed
    from rackpanel.topology import DEFAULT_INVENTORY, load_inventory
    from rackpanel.topology.loader import ENV_INVENTORY

    inventory_path = Path(args.inventory or os.environ.get(ENV_INVENTORY) or DEFAULT_INVENTORY)
    inv = load_inventory(inventory_path)
    size = sum(1 for _ in inv.nodes())
    if size > args.max_nodes:
        print(
            f"rackpanel demo: {inventory_path} has {size} nodes; the demo runs one exporter "
            f"process per node (about 75 MB each) and stops at {args.max_nodes} "
            f"(--max-nodes). At this size run the simulator alone: rackpanel sim --inventory "
            f"{inventory_path}, with a `rackpanel exporter` for each rack you want to watch.",
            file=sys.stderr,
        )
        return 2
    opts = StackOptions(
        inventory_path=inventory_path.resolve(),
        run_dir=Path(args.run_dir).resolve(),
        failure_detector=args.failure_detector,
        with_prometheus=not args.no_prometheus,
        with_grafana=not args.no_grafana,
        web_port=None if args.no_web else args.web_port,
    )
    try:
        return run_demo(inv, opts, ui=not args.no_ui)
    except PortInUse as exc:
        print(f"rackpanel demo: {exc}", file=sys.stderr)
        return 2
    except ServiceFailed as exc:
        print(f"rackpanel demo: {exc}", file=sys.stderr)
        return 1
