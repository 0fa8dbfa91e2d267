"""An apt cache the operator prepared: a directory of .deb files made into a flat repository.

``rackpanel deploy bundle --apt-debs DIR`` copies the .debs (made on a Pi with internet by
``apt-get install --download-only``, or ``apt-get download``) into the bundle and writes the
``Packages`` index apt needs, read from each package's own control file. On the hosts the cache is
the only source apt uses (``CACHE_OPTIONS``), so no mirror is contacted.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import shutil
import tarfile
from pathlib import Path

CACHE_DIR = "/var/cache/rackpanel/apt"
CACHE_LIST = "/etc/apt/rackpanel-cache.list"
CACHE_LINE = f"deb [trusted=yes] file:{CACHE_DIR} ./\n"
# apt reads only the cache's list: no sources.list.d part, no mirror, no other repository
CACHE_OPTIONS = (
    f"-o Dir::Etc::SourceList={CACHE_LIST} -o Dir::Etc::SourceParts=/dev/null "
    "-o APT::Get::List-Cleanup=0"
)


class CacheError(Exception):
    pass


def _ar_members(data: bytes, where: Path) -> dict[str, bytes]:
    if not data.startswith(b"!<arch>\n"):
        raise CacheError(f"{where}: not a Debian package (no ar header)")
    members, offset = {}, 8
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size % 2)
    return members


def control_fields(deb: Path) -> str:
    """The package's ``control`` paragraph, as dpkg-deb -f would print it."""
    members = _ar_members(deb.read_bytes(), deb)
    for name, payload in members.items():
        if not name.startswith("control.tar"):
            continue
        if name.endswith(".zst"):
            raise CacheError(f"{deb}: zstd-compressed control archive is not supported")
        raw = lzma.decompress(payload) if name.endswith(".xz") else payload
        with tarfile.open(fileobj=io.BytesIO(raw)) as archive:
            for member in archive.getmembers():
                if member.name.lstrip("./") == "control":
                    handle = archive.extractfile(member)
                    if handle is not None:
                        return handle.read().decode("utf-8").strip() + "\n"
    raise CacheError(f"{deb}: no control file in the package")


def index_entry(deb: Path, filename: str) -> str:
    data = deb.read_bytes()
    extra = (
        f"Filename: ./{filename}\n"
        f"Size: {len(data)}\n"
        f"MD5sum: {hashlib.md5(data).hexdigest()}\n"
        f"SHA256: {hashlib.sha256(data).hexdigest()}\n"
    )
    return control_fields(deb) + extra


def build_cache(debs: Path, out: Path) -> int:
    """Copy every .deb of ``debs`` into ``out`` and write ``out/Packages``; how many."""
    found = sorted(debs.glob("*.deb"))
    if not found:
        raise CacheError(f"{debs}: no .deb files (make them with apt-get install --download-only)")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.deb"):
        old.unlink()
    entries = []
    for deb in found:
        shutil.copy2(deb, out / deb.name)
        entries.append(index_entry(out / deb.name, deb.name))
    (out / "Packages").write_text("\n".join(entries))
    return len(found)
