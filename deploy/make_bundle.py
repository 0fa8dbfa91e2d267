"""``rackpanel deploy bundle``: on the operator's machine, make what the hosts install from.

The only deploy step that needs internet: the wheels for the hosts' platform from PyPI (the
project's own built from this checkout), the repositories' published key files (kept as
downloaded; deploy keeps only their pinned keys), and with ``--apt-debs DIR`` the operator's
.debs as an apt cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rackpanel.deploy.aptcache import CacheError, build_cache
from rackpanel.deploy.bundle import BundleError, fetch_keys
from rackpanel.deploy.install import Installer
from rackpanel.deploy.wheels import build_wheels
from rackpanel.topology import Inventory

PROJECT = Path(__file__).resolve().parents[1]  # the checkout holding pyproject.toml


def run_bundle(inv: Inventory, base: Path, *, apt_debs: str | None, pi: bool) -> int:
    bundle = Installer.for_inventory(inv, base).bundle
    say = print
    extras = ["pi"] if pi and inv.writers else []
    try:
        if not (PROJECT / "pyproject.toml").is_file():
            raise BundleError(f"{PROJECT} is not a checkout of rackpanel (no pyproject.toml)")
        build_wheels(
            PROJECT,
            bundle.directory,
            inv.deploy.wheel_platforms,
            inv.deploy.wheel_python,
            extras,
            log=say,
        )
        if apt_debs:
            count = build_cache(Path(apt_debs), bundle.apt_dir)
            say(f"apt cache: {count} .debs indexed in {bundle.apt_dir}")
        for line in fetch_keys(bundle):
            say(f"downloaded {line}")
    except (BundleError, CacheError) as exc:
        print(f"rackpanel deploy bundle: {exc}", file=sys.stderr)
        return 1
    say(f"bundle ready in {bundle.directory}")
    return 0
