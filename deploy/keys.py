"""APT signing keys, pinned by fingerprint in the project.

The operator's machine holds the key file each repository publishes (Apache Cassandra's KEYS,
Grafana's gpg.key), downloaded by ``rackpanel deploy bundle`` or put there by hand. Deploy keeps
only the keys whose fingerprints are pinned here and uploads that keyring to the hosts, where the
repository definition names it with ``Signed-By``: apt then trusts nothing else for that source.
A key file holding none of the pinned keys is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PinError(Exception):
    """A key file that cannot be used: gpg missing, unreadable, or no pinned key in it."""


@dataclass(frozen=True)
class AptKey:
    """A repository's key: where it is published and the fingerprints deploy accepts."""

    name: str
    url: str
    fingerprints: tuple[str, ...]


# The release managers' keys in https://downloads.apache.org/cassandra/KEYS, as the Docker
# official image lists them (docker-library/cassandra, 5.0/Dockerfile, GPG_KEYS, generated from
# that KEYS file); the Debian repository at debian.cassandra.apache.org is signed with them.
CASSANDRA = AptKey(
    "cassandra",
    "https://downloads.apache.org/cassandra/KEYS",
    (
        "CEC86BB4A0BA9D0F90397CAEF8358FA2F2833C93",  # Eric Evans
        "C4965EE9E3015D192CCCF2B6F758CE318D77295D",  # Eric Evans
        "5AED1BF378E9A19DADE1BCB34BD736A82B5C1B00",  # Sylvain Lebresne
        "514A2AD631A57A16DD0047EC749D6EEC0353B12C",  # T Jake Luciani
        "A26E528B271F19B9E5D8E19EA278B781FE4B2BDA",  # Michael Shuler
        "A4C465FEA0C552561A392A61E91335D77E3E87CB",  # Michael Semb Wever
        "9E66CEC6106D578D0B1EB9BFF1000962B7F6840C",  # Alex Petrov
        "C4009872C59B49561310D966D0062876AF30F054",  # Jordan West
        "B7842CDAF36E6A3214FAE35D5E85B9AE0B84C041",  # Brandon Williams
        "3E9C876907A560ACA00964F363E9BAD215BBF5F0",  # Ekaterina Buryanova Dimitrova
        "F8B7FD00E05C932991A2CD6150EE103D162C5A55",  # Sam Tunnicliffe
        "7464AAD9068241C50BA6A26232F35CB2F546D93E",  # Stefan Miklosovic
        "CEC5C50B9C629EF0F5AB2706650B72EB14CCD622",  # Berenguer Blasi
    ),
)

# https://apt.grafana.com: the key that signs the repository since the rotation of 2023-08-24
# (the earlier 4E40DDF6… and 0E22EB88… keys were retired).
GRAFANA = AptKey(
    "grafana", "https://apt.grafana.com/gpg.key", ("B53AE77BADB630A683046005963FA27710458545",)
)

KEYS = {key.name: key for key in (CASSANDRA, GRAFANA)}


def _gpg(home: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    gpg = shutil.which("gpg")
    if gpg is None:
        raise PinError("gpg is not installed on this machine (Debian: apt-get install gpg)")
    env = {**os.environ, "GNUPGHOME": home}
    return subprocess.run([gpg, "--batch", "--no-tty", *args], capture_output=True, env=env)


def fingerprints(source: Path) -> list[str]:
    """Primary-key fingerprints in an OpenPGP key file (armored or binary), in file order."""
    with tempfile.TemporaryDirectory(prefix="rackpanel-gpg-") as home:
        result = _gpg(home, "--with-colons", "--show-keys", str(source))
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        raise PinError(
            f"{source}: not an OpenPGP key file ({reason[-1] if reason else 'gpg failed'})"
        )
    found: list[str] = []
    primary = False
    for line in result.stdout.decode().splitlines():
        fields = line.split(":")
        if fields[0] in ("pub", "sub"):
            primary = fields[0] == "pub"
        elif fields[0] == "fpr" and primary:
            found.append(fields[9])
            primary = False
    return found


def pinned_keyring(key: AptKey, source: Path) -> str:
    """The armored keyring of the pinned keys found in ``source``; refused when none is there."""
    if not source.is_file():
        raise PinError(
            f"{source} is missing: run `rackpanel deploy bundle` (downloads {key.url}) "
            "or put that file there"
        )
    found = fingerprints(source)
    keep = [f for f in found if f in key.fingerprints]
    if not keep:
        raise PinError(
            f"{source}: none of its {len(found)} key(s) is pinned for the {key.name} repository "
            f"(found {', '.join(found) or 'none'}); expected the file published at {key.url}"
        )
    with tempfile.TemporaryDirectory(prefix="rackpanel-gpg-") as home:
        imported = _gpg(home, "--import", str(source))
        if imported.returncode != 0:
            raise PinError(f"{source}: gpg could not import it")
        exported = _gpg(home, "--armor", "--export", *keep)
    if exported.returncode != 0 or not exported.stdout:
        raise PinError(f"{source}: gpg could not export the pinned keys {', '.join(keep)}")
    return exported.stdout.decode("ascii")
