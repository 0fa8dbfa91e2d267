"""An OpenPGP signing key made at test time with gpg: it stands in for the repositories' keys
(Apache Cassandra's KEYS, Grafana's gpg.key), which cannot be downloaded on this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.binaries import require_binary


def make_signing_key(directory: Path) -> Path:
    """A fresh ed25519 key; returns its armored public key file in ``directory``."""
    gpg = require_binary("gpg")
    home = directory / "gnupg"
    home.mkdir(mode=0o700, parents=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    uid = "rackpanel lab <lab@example.invalid>"
    subprocess.run(
        [gpg, "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
        check=True,
        capture_output=True,
        env=env,
    )
    exported = subprocess.run(
        [gpg, "--batch", "--armor", "--export"], check=True, capture_output=True, env=env
    )
    path = directory / "lab-key.asc"
    path.write_bytes(exported.stdout)
    # key generation started a gpg-agent for this home; it would outlive the test run
    gpgconf = shutil.which("gpgconf")
    if gpgconf is not None:
        subprocess.run([gpgconf, "--kill", "all"], capture_output=True, env=env, check=False)
    return path
