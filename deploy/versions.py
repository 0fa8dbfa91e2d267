"""The versions the inventory asks for, checked before anything is installed.

``cluster.cassandra_version`` is an exact release (the model holds it to X.Y.Z): it is the apt
pin ``cassandra=X.Y.Z`` and names the Apache repository's suite. ``deploy.java_package`` must be a
Java that release runs on (``SUPPORTED_JAVA``, the same rule ``deploy check`` applies to an
installed JDK): Cassandra 4.1 on Raspberry Pi OS bookworm's Java 17 is refused with the reason.
"""

from __future__ import annotations

import re

from rackpanel.topology import Inventory
from rackpanel.topology.model import release_of

JAVA_PACKAGE = re.compile(r"^openjdk-(\d+)-(jre|jdk)(-headless)?$")


class VersionError(ValueError):
    pass


def cassandra_series(version: str) -> str:
    """The Apache Debian repository's suite for a release: 5.0.6 → 50x."""
    return release_of(version).replace(".", "") + "x"


def check_versions(inv: Inventory) -> None:
    from rackpanel.deploy.check import java_problem  # check builds on the install phases

    package = inv.deploy.java_package
    match = JAVA_PACKAGE.match(package)
    if not match:
        raise VersionError(
            f"inventory: deploy.java_package {package!r} is not an OpenJDK package such as "
            "openjdk-17-jre-headless"
        )
    problem = java_problem(inv.cluster.cassandra_version, match.group(1))
    if problem:
        problem = problem.replace("this host has", f"deploy.java_package {package} is Java")
        raise VersionError(f"inventory: {problem}")
