"""`rackpanel generate`: write every file derived from the inventory, or check them.

A generator is a module with ``files(inventory) -> dict[relative path, text]`` and, optionally,
``OWNED_GLOBS`` (files under those patterns that it no longer produces are stale and removed).
Generators are pure functions of the inventory, so the committed output is reproducible and
``--check`` fails when a committed file differs from what the inventory produces.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rackpanel.contract import ContractError
from rackpanel.topology import Inventory, load_inventory

HELP = "regenerate Prometheus targets, dashboards and the compose file from the inventory"

# Every generator of the project, in the order they run.
GENERATORS: list[str] = [
    "rackpanel.contract.docs",
    "rackpanel.prometheus.generate",
    "rackpanel.dashboards.generate",
    "rackpanel.compose",
]


@dataclass
class Plan:
    """What generation would do under ``root``."""

    wanted: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return bool(self.changed or self.orphaned)


def render_all(
    inv: Inventory, generators: list[str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Every generated file's content, and the globs the generators own."""
    wanted: dict[str, str] = {}
    owned: list[str] = []
    for path in GENERATORS if generators is None else generators:
        module = importlib.import_module(path)
        for rel, text in module.files(inv).items():
            if rel in wanted:
                raise RuntimeError(f"generators disagree: {rel} is produced twice ({path})")
            wanted[rel] = text
        owned.extend(getattr(module, "OWNED_GLOBS", []))
    return wanted, owned


def plan(inv: Inventory, root: Path, generators: list[str] | None = None) -> Plan:
    wanted, owned = render_all(inv, generators)
    result = Plan(wanted=wanted)
    for rel, text in sorted(wanted.items()):
        target = root / rel
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            result.changed.append(rel)
    for pattern in owned:
        for existing in sorted(root.glob(pattern)):
            rel = existing.relative_to(root).as_posix()
            if rel not in wanted:
                result.orphaned.append(rel)
    return result


def write_atomically(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` via a temporary file and rename: never half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply(result: Plan, root: Path) -> None:
    for rel in result.changed:
        write_atomically(root / rel, result.wanted[rel])
    for rel in result.orphaned:
        (root / rel).unlink()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rackpanel.settings import add_inventory_argument

    add_inventory_argument(parser)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when a committed generated file is stale",
    )
    parser.add_argument("--root", default=".", help="project root to write under (default: .)")
    parser.add_argument("--diff", action="store_true", help="with --check, show the differences")


def run(args: argparse.Namespace) -> int:
    inv = load_inventory(args.inventory)
    root = Path(args.root)
    try:
        result = plan(inv, root)
    except ContractError as exc:  # a generator names a series, rule or alert the contract lacks
        print(f"generate: {exc}", file=sys.stderr)
        return 1
    if args.check:
        for rel in result.changed:
            print(f"stale: {rel}", file=sys.stderr)
            if args.diff:
                old = (root / rel).read_text(encoding="utf-8") if (root / rel).exists() else ""
                sys.stderr.writelines(
                    difflib.unified_diff(
                        old.splitlines(True), result.wanted[rel].splitlines(True), rel, rel
                    )
                )
        for rel in result.orphaned:
            print(f"orphaned (no longer generated): {rel}", file=sys.stderr)
        if result.stale:
            print("run `rackpanel generate` and commit the result", file=sys.stderr)
            return 1
        print(f"{len(result.wanted)} generated file(s) up to date")
        return 0
    apply(result, root)
    for rel in result.changed:
        print(f"wrote {rel}")
    for rel in result.orphaned:
        print(f"removed {rel}")
    print(f"{len(result.wanted)} generated file(s), {len(result.changed)} changed")
    return 0
