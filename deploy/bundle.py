"""The operator's bundle: what the hosts get from this machine instead of the internet.

``rackpanel deploy bundle`` (network needed here, never on the Pis) fills ``deploy.bundle_dir``:

    wheels/         the project's wheel and every dependency's wheel for the Pis' platform
    wheels.json     what was built: version, platforms, digest, Debian packages for the rest
    keys/           the repositories' published key files (filtered to the pinned keys on use)
    apt/            with --apt-debs DIR: the operator's .debs and their Packages index

``apply`` uploads from it and fails with the reason when a part it needs is missing.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rackpanel.deploy.keys import KEYS


class BundleError(Exception):
    pass


@dataclass(frozen=True)
class Wheels:
    directory: Path
    version: str
    project_wheel: str
    count: int
    digest: str  # over every wheel's name and content: changes whenever one does
    apt_packages: tuple[str, ...]  # Debian packages for the dependencies no wheel can serve
    extras: tuple[str, ...] = ()


def wheels_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for wheel in sorted(directory.glob("*.whl")):
        digest.update(wheel.name.encode() + b"\0" + hashlib.sha256(wheel.read_bytes()).digest())
    return digest.hexdigest()


class Bundle:
    def __init__(self, directory: Path, jolokia_jar: Path | None = None) -> None:
        self.directory = directory
        self._jolokia_jar = jolokia_jar

    def key_file(self, name: str) -> Path:
        return self.directory / "keys" / f"{name}.asc"

    @property
    def apt_dir(self) -> Path:
        return self.directory / "apt"

    def wheels(self) -> Wheels:
        manifest = self.directory / "wheels.json"
        if not manifest.is_file():
            raise BundleError(
                f"no wheels in {self.directory}: "
                "run `rackpanel deploy bundle` on this machine first"
            )
        data = json.loads(manifest.read_text())
        directory = self.directory / "wheels"
        digest = wheels_digest(directory)
        if digest != data["digest"]:
            raise BundleError(
                f"{directory} changed since `rackpanel deploy bundle` made it: run it again"
            )
        return Wheels(
            directory,
            data["version"],
            data["project_wheel"],
            len(list(directory.glob("*.whl"))),
            digest,
            tuple(data.get("apt_packages", ())),
            tuple(data.get("extras", ())),
        )

    def apt_cache(self) -> Path:
        if not (self.apt_dir / "Packages").is_file():
            raise BundleError(
                f"deploy.apt_cache is set but {self.apt_dir} has no Packages index: "
                "run `rackpanel deploy bundle --apt-debs DIR`"
            )
        return self.apt_dir

    def jolokia_jar(self) -> Path:
        jar = self._jolokia_jar
        if jar is None:
            raise BundleError(
                "cluster.jolokia is true: give deploy.jolokia_jar, the Jolokia JVM agent jar on "
                "this machine (jolokia-agent-jvm-<version>-javaagent.jar from Maven Central)"
            )
        if not jar.is_file():
            raise BundleError(f"deploy.jolokia_jar: {jar} does not exist")
        return jar


def fetch_keys(bundle: Bundle, timeout: float = 30.0) -> list[str]:
    """Download each repository's published key file that the bundle does not hold yet."""
    done = []
    for key in KEYS.values():
        target = bundle.key_file(key.name)
        if target.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with urllib.request.urlopen(key.url, timeout=timeout) as response:
                data = response.read()
        except OSError as exc:
            raise BundleError(
                f"cannot download {key.url} ({exc}); put that file at {target} by hand"
            ) from None
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)
        done.append(f"{key.url} → {target}")
    return done
