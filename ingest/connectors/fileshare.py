"""File share connector: a mounted path (local disk, NFS, SMB look the same), readers from POSIX.

Readers of a file are derived on every sync from its owning group (if group-readable), the
named groups of its POSIX access ACL that may read (after the ACL mask), its owner (key
"user:<name>") and "other" (key "@others", if world-readable), each mapped through the
collection's mapping file (Unix group -> Enclave groups). Unmapped groups grant nothing: a
file nobody mapped may read is not stored. Directory permissions are not evaluated.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

from ingest.loaders import SUPPORTED_EXTENSIONS

from .base import Item, Listing

__all__ = ["FileShareConnector", "posix_acl_groups"]

_ACL_XATTR = "system.posix_acl_access"
_ACL_VERSION = 2
_ACL_GROUP_OBJ, _ACL_GROUP, _ACL_MASK = 0x04, 0x08, 0x10
_READ = 0x4


def posix_acl_groups(path: Path) -> tuple[set[int], bool | None]:
    """(gids of named ACL groups that may read, whether the owning group may read, or None
    without an ACL) from the Linux xattr format: a version word, then (tag, perm, id) entries."""
    try:
        raw = os.getxattr(path, _ACL_XATTR)
    except OSError:  # no ACL, or a filesystem without xattrs
        return set(), None
    if len(raw) < 4 or struct.unpack_from("<I", raw)[0] != _ACL_VERSION:
        return set(), None
    entries = [struct.unpack_from("<HHI", raw, offset) for offset in range(4, len(raw) - 7, 8)]
    mask = next((perm for tag, perm, _ in entries if tag == _ACL_MASK), 0x7)
    named = {gid for tag, perm, gid in entries if tag == _ACL_GROUP and perm & mask & _READ}
    group_obj = any(tag == _ACL_GROUP_OBJ and perm & mask & _READ for tag, perm, _ in entries)
    return named, group_obj


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return f"#{gid}"  # a gid without a name (NFS from another host): map it as "#1234"


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"#{uid}"


class FileShareConnector:
    def __init__(
        self,
        name: str,
        root: Path,
        group_map: Mapping[str, Sequence[str]],
        extensions: frozenset[str] = SUPPORTED_EXTENSIONS,
    ) -> None:
        self.name = name
        self.root = root
        self.group_map = group_map
        self.extensions = extensions

    def readers(self, path: Path, st: os.stat_result) -> tuple[str, ...]:
        unix: set[str] = set()
        named, group_obj = posix_acl_groups(path)
        if group_obj if group_obj is not None else st.st_mode & stat.S_IRGRP:
            unix.add(_group_name(st.st_gid))
        unix.update(_group_name(gid) for gid in named)
        if st.st_mode & stat.S_IRUSR:
            unix.add(f"user:{_user_name(st.st_uid)}")
        if st.st_mode & stat.S_IROTH:
            unix.add("@others")
        return tuple(sorted({group for name in unix for group in self.group_map.get(name, ())}))

    def list_items(self) -> Listing:
        listing = Listing()
        if not self.root.is_dir():
            listing.complete = False
            listing.errors.append(f"{self.name}: share root is not a readable folder")
            return listing

        def walk_error(exc: OSError) -> None:
            listing.complete = False
            listing.errors.append(f"{self.name}: cannot list a folder ({exc.strerror})")

        for folder, dirs, files in os.walk(self.root, onerror=walk_error):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for file_name in sorted(files):
                path = Path(folder) / file_name
                if file_name.startswith(".") or path.suffix.lower() not in self.extensions or path.is_symlink():
                    continue
                try:
                    st = path.stat()
                except OSError as exc:
                    listing.complete = False
                    listing.errors.append(f"{self.name}: cannot stat a file ({exc.strerror})")
                    continue
                rel = path.relative_to(self.root).as_posix()
                listing.items.append(
                    Item(
                        key=rel,
                        source=rel,
                        version=f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}",
                        readers=self.readers(path, st),
                        fetch=path.read_bytes,
                    )
                )
        return listing
