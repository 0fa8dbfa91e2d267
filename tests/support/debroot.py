"""Disposable Debian roots as the deploy lab's blank hosts: install phases run there for real.

A lab host's ``remote_root`` is a Debian bookworm root made by ``mmdebstrap`` (cached as a tarball
under ``$RACKPANEL_TEST_CACHE``, default ``~/.cache/rackpanel-tests``), holding what a fresh
Raspberry Pi OS Lite has that matters here: python3, systemd, systemd-timesyncd,
ca-certificates. ``deploy.command_wrapper`` runs every install command inside it, in private
mount and PID namespaces (``unshare``, its own /proc) with ``chroot``, and with ``--net`` in a
network namespace of its own: no network at all, as at a venue.

Only ``raspi-config`` is a stand-in (``RASPI_CONFIG``): it comes from the Raspberry Pi archive,
which this machine cannot reach.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.binaries import IN_CI, require_binary

CACHE = Path(os.environ.get("RACKPANEL_TEST_CACHE", Path.home() / ".cache/rackpanel-tests"))
MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = "python3,systemd,systemd-timesyncd,ca-certificates"

# The nonint get_i2c / do_i2c of raspi-config, on the same files (config.txt, /etc/modules).
RASPI_CONFIG = r"""#!/bin/sh
# Lab stand-in for Raspberry Pi OS's raspi-config (from the Raspberry Pi archive, not reachable
# here): `nonint get_i2c` prints 0 when the I2C interface is on, `nonint do_i2c 0` turns it on.
CONFIG=/boot/firmware/config.txt
[ "$1" = nonint ] || { echo "lab raspi-config: only nonint" >&2; exit 2; }
case "$2" in
  get_i2c)
    if grep -q -E '^(device_tree_param|dtparam)=([^,]*,)*i2c(_arm)?(=(on|true|yes|1))?(,.*)?$' \
        "$CONFIG" 2>/dev/null; then echo 0; else echo 1; fi ;;
  do_i2c)
    [ "$3" = 0 ] || exit 2
    mkdir -p /boot/firmware && touch "$CONFIG"
    sed -i '/^dtparam=i2c_arm=/d' "$CONFIG" && echo dtparam=i2c_arm=on >> "$CONFIG"
    grep -qx i2c-dev /etc/modules 2>/dev/null || echo i2c-dev >> /etc/modules ;;
  *) echo "lab raspi-config: unknown $2" >&2; exit 2 ;;
esac
"""


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _locked_build(target: Path, build) -> Path:
    """Build ``target`` once, even when several test runs ask at the same time."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            partial = target.with_name(target.name + ".part")
            if partial.is_dir():
                shutil.rmtree(partial)
            partial.unlink(missing_ok=True)
            build(partial)
            partial.rename(target)
    return target


def base_tarball() -> Path:
    """A blank bookworm root as a tarball (about 230 MB, about a minute to make once)."""
    if os.geteuid() != 0:
        _unavailable("the install lab needs root (chroot, namespaces)")
    mmdebstrap = require_binary("mmdebstrap")

    def build(partial: Path) -> None:
        done = subprocess.run(
            [
                mmdebstrap,
                "--quiet",
                "--variant=apt",
                f"--include={BASE_PACKAGES}",
                "--format=tar",
                "bookworm",
                str(partial),
                MIRROR,
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            _unavailable(f"mmdebstrap could not make a Debian root: {done.stderr[-300:]}")

    return _locked_build(CACHE / "bookworm-base.tar", build)


def make_root(root: Path, *, raspi_config: bool = False) -> Path:
    """A fresh blank host at ``root`` (whatever was there is removed)."""
    tarball = base_tarball()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    subprocess.run(["tar", "-xf", str(tarball), "-C", str(root)], check=True)
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    if raspi_config:
        tool = root / "usr/bin/raspi-config"
        tool.write_text(RASPI_CONFIG)
        tool.chmod(0o755)
    return root


def wrapper(root: str, *, offline: bool = False) -> str:
    """``deploy.command_wrapper`` for a root (may hold ``{host}``)."""
    net = "--net " if offline else ""
    return f"unshare {net}--mount --pid --fork --mount-proc={root}/proc chroot {root}"


def in_root(root: Path, command: str, *, offline: bool = False) -> subprocess.CompletedProcess:
    """Run ``command`` inside the root, as the install phases do."""
    argv = [*wrapper(str(root), offline=offline).split(), "sh", "-c", command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def debs_for(packages: list[str]) -> Path:
    """.debs of ``packages`` and what they need on a blank root, as an operator would prepare
    them (``apt-get install --download-only`` on a host with internet); cached."""
    name = "debs-" + "-".join(sorted(packages))

    def build(partial: Path) -> None:
        scratch = CACHE / f"{name}.root"
        make_root(scratch)
        try:
            (scratch / "debs/partial").mkdir(parents=True)
            listed = " ".join(packages)
            done = in_root(
                scratch,
                "apt-get -q update && apt-get -q -y install --download-only "
                f"--no-install-recommends -o Dir::Cache::archives=/debs {listed}",
            )
            if done.returncode != 0:
                _unavailable(f"apt-get could not download {listed}: {done.stdout[-300:]}")
            partial.mkdir()
            for deb in (scratch / "debs").glob("*.deb"):
                shutil.copy2(deb, partial / deb.name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return _locked_build(CACHE / name, build)
