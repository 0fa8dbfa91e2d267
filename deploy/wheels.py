"""Wheels for the Pis, built on the operator's machine: the hosts install them with no index.

1. ``pip wheel`` builds the project's own wheel (pure Python) from this checkout.
2. ``pip install --dry-run --report`` resolves the requirement set (``rackpanel[extras]``).
3. Each dependency is downloaded as a wheel for the hosts' platform (``--platform``,
   ``--python-version``); one with only an sdist is built here when it is pure Python
   (``py3-none-any``); a compiled one with no wheel for the platform comes from Debian instead
   (``APT_PYTHON``: the host's venv then sees the system's site-packages).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from rackpanel.deploy.bundle import BundleError, wheels_digest

# Compiled dependencies of the `pi` extra with no aarch64 wheel on PyPI, and the Raspberry Pi OS
# package that provides each.
APT_PYTHON = {
    "rpi-gpio": "python3-rpi.gpio",
    "spidev": "python3-spidev",
    "sysv-ipc": "python3-sysv-ipc",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def _failure(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]


def project_wheel(project: Path, out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="rackpanel-wheel-") as tmp:
        result = _pip("wheel", "--no-deps", "--quiet", "-w", tmp, str(project))
        if result.returncode != 0:
            raise BundleError(f"pip wheel {project} failed: {_failure(result)}")
        (built,) = Path(tmp).glob("rackpanel-*.whl")
        target = out / built.name
        shutil.move(built, target)
    return target


def resolve(requirement: str) -> list[tuple[str, str]]:
    """(name, version) of every distribution ``requirement`` needs, itself excluded."""
    with tempfile.TemporaryDirectory(prefix="rackpanel-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        result = _pip(
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            requirement,
        )
        if result.returncode != 0:
            raise BundleError(f"resolving {requirement} failed: {_failure(result)}")
        items = json.loads(report.read_text())["install"]
    found = [(item["metadata"]["name"], item["metadata"]["version"]) for item in items]
    return [(name, version) for name, version in found if canonical(name) != "rackpanel"]


def _platform_args(platforms: Sequence[str], python: str) -> list[str]:
    args = ["--only-binary=:all:", "--no-deps", "--python-version", python]
    args += ["--implementation", "cp", "--abi", "cp" + python.replace(".", "")]
    for platform in platforms:
        args += ["--platform", platform]
    return args


def fetch(
    pins: list[str], out: Path, platforms: Sequence[str], python: str, log: Callable[[str], None]
) -> None:
    """Download wheels of ``pins`` (name==version) for the platform, else build pure ones."""
    if not pins:
        return
    args = ["download", "--quiet", "-d", str(out), *_platform_args(platforms, python)]
    if _pip(*args, *pins).returncode == 0:
        return
    for pin in pins:  # one failed: find which, and build the pure-Python ones here
        if _pip(*args, pin).returncode == 0:
            continue
        with tempfile.TemporaryDirectory(prefix="rackpanel-sdist-") as tmp:
            result = _pip("wheel", "--no-deps", "--quiet", "-w", tmp, pin)
            built = list(Path(tmp).glob("*.whl"))
            if result.returncode != 0 or not built:
                raise BundleError(f"{pin}: no wheel for {platforms[0]} and it does not build here")
            if not built[0].name.endswith("-none-any.whl"):
                raise BundleError(
                    f"{pin} has no wheel for {', '.join(platforms)} and is not pure Python "
                    f"({built[0].name}): give the Debian package that provides it in APT_PYTHON"
                )
            shutil.move(built[0], out / built[0].name)
            log(f"built {built[0].name} here (PyPI has only its source)")


def build_wheels(
    project: Path,
    out: Path,
    platforms: Sequence[str],
    python: str,
    extras: Sequence[str] = (),
    log: Callable[[str], None] = print,
) -> dict[str, object]:
    """Fill ``out`` (emptied first) with every wheel the hosts need; the manifest written."""
    wheels = out / "wheels"
    if wheels.exists():
        shutil.rmtree(wheels)
    wheels.mkdir(parents=True)
    own = project_wheel(project, wheels)
    log(f"built {own.name}")
    version = own.name.split("-")[1]
    requirement = f"{own}[{','.join(extras)}]" if extras else str(own)
    needed = resolve(requirement)
    apt = sorted({APT_PYTHON[canonical(n)] for n, _ in needed if canonical(n) in APT_PYTHON})
    pins = [f"{n}=={v}" for n, v in needed if canonical(n) not in APT_PYTHON]
    fetch(pins, wheels, platforms, python, log)
    manifest: dict[str, object] = {
        "version": version,
        "project_wheel": own.name,
        "platforms": list(platforms),
        "python": python,
        "extras": list(extras),
        "apt_packages": apt,
        "digest": wheels_digest(wheels),
    }
    (out / "wheels.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"{len(list(wheels.glob('*.whl')))} wheels in {wheels} for {', '.join(platforms)}")
    return manifest
