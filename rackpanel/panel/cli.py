"""`rackpanel panel`: serve the web panel (the physical panel's twin) for a running stack"""

from __future__ import annotations

import argparse
import sys

HELP = "serve the web panel (the physical panel's twin) for a running stack"
DEFAULT_PORT = 8080


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rackpanel.settings import add_inventory_argument

    add_inventory_argument(parser)
    parser.add_argument(
        "--stack",
        choices=("sim", "compose", "pi"),
        default="sim",
        help="what runs: the simulator (default; the stops cut its power), the compose stack "
        "(the stops kill/start containers) or the real Pis (the stops are read-only)",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default=None,
        help=f"where to serve the page (default: 127.0.0.1:{DEFAULT_PORT}; with --stack sim the "
        "monitor's simulator address)",
    )
    for name, what in (
        ("prometheus", "Prometheus base URL"),
        ("alertmanager", "Alertmanager base URL"),
        ("grafana", "Grafana kiosk URL to link"),
    ):
        parser.add_argument(
            f"--{name}",
            metavar="URL",
            default=None,
            help=f"{what} (default: the stack's monitor; '' for none)",
        )
    parser.add_argument(
        "--compose-file",
        default="docker-compose.yml",
        help="with --stack compose: the compose file (default: docker-compose.yml)",
    )


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen must be HOST:PORT, got {text!r}")
    return host, int(port)


def default_listen(inv, stack: str) -> str:  # type: ignore[no-untyped-def]
    host = str(inv.monitor.sim_address) if stack == "sim" and inv.monitor else "127.0.0.1"
    return f"{host}:{DEFAULT_PORT}"


def run(args: argparse.Namespace) -> int:
    import asyncio

    from rackpanel.panel.app import serve_panel
    from rackpanel.panel.stacks import Monitoring
    from rackpanel.topology import load_inventory

    inv = load_inventory(args.inventory)
    try:
        host, port = _listen(args.listen or default_listen(inv, args.stack))
    except ValueError as exc:
        print(f"rackpanel panel: {exc}", file=sys.stderr)
        return 2
    monitoring = Monitoring(args.prometheus, args.alertmanager, args.grafana)
    try:
        asyncio.run(serve_panel(inv, args.stack, host, port, monitoring, args.compose_file))
    except OSError as exc:
        print(f"rackpanel panel: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
