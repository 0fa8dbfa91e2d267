"""Versions the inventory asks for, checked before anything is installed.

Cassandra 4.1 runs on Java 8 or 11 only: its jvm11-server.options pass -XX:+UseConcMarkSweepGC,
which Java 14 and later reject, so it does not start on Java 17 (all that Raspberry Pi OS
bookworm ships). Cassandra 5.0 runs on Java 11 and 17.
"""

from __future__ import annotations

import re

from rackpanel.topology import Inventory

JAVA_FOR_CASSANDRA = {(4, 0): (8, 11), (4, 1): (8, 11), (5, 0): (11, 17)}
JAVA_PACKAGE = re.compile(r"^openjdk-(\d+)-(jre|jdk)(-headless)?$")
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class VersionError(ValueError):
    pass


def cassandra_release(version: str) -> tuple[int, int]:
    match = VERSION.match(version)
    if not match:
        raise VersionError(
            f"inventory: cluster.cassandra_version {version!r} is not an exact release such as "
            "5.0.4 (deploy installs exactly that version from the Apache repository)"
        )
    return int(match.group(1)), int(match.group(2))


def cassandra_series(version: str) -> str:
    """The Apache Debian repository's suite for a release: 5.0.4 → 50x."""
    major, minor = cassandra_release(version)
    return f"{major}{minor}x"


def java_major(package: str) -> int:
    match = JAVA_PACKAGE.match(package)
    if not match:
        raise VersionError(
            f"inventory: deploy.java_package {package!r} is not an OpenJDK package such as "
            "openjdk-17-jre-headless"
        )
    return int(match.group(1))


def check_versions(inv: Inventory) -> None:
    """Refuse, with the reason, a Cassandra version the inventory's Java cannot run."""
    release = cassandra_release(inv.cluster.cassandra_version)
    java = java_major(inv.deploy.java_package)
    supported = JAVA_FOR_CASSANDRA.get(release)
    if supported is None:
        known = ", ".join(f"{a}.{b}" for a, b in JAVA_FOR_CASSANDRA)
        raise VersionError(
            f"inventory: cluster.cassandra_version {inv.cluster.cassandra_version}: deploy knows "
            f"Cassandra {known}"
        )
    if java not in supported:
        why = (
            " (its jvm11-server.options pass -XX:+UseConcMarkSweepGC, which Java 14 and later "
            "reject, so it would not start)"
            if release < (5, 0) and java > 11
            else ""
        )
        raise VersionError(
            f"inventory: Cassandra {inv.cluster.cassandra_version} runs on Java "
            f"{' or '.join(map(str, supported))}, not on Java {java} of deploy.java_package "
            f"{inv.deploy.java_package}{why}; Raspberry Pi OS bookworm ships Java 17: "
            "use Cassandra 5.0"
        )
