"""`rackpanel exporter`: run one node's Prometheus exporter"""

from __future__ import annotations

import argparse

from rackpanel.cli import not_implemented

HELP = "run one node's Prometheus exporter"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    return not_implemented("exporter")
