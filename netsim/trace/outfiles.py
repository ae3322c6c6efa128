"""Writing under an output folder without following a symbolic link planted there.

The folder given with ``-o`` is the user's (it may itself be a link they made, and it
is followed). What netsim writes *inside* it — ``summary.json``, ``trace.jsonl``, the
pictures, ``pcap/`` and its captures — never goes through a symbolic link found there:
``DIR/pcap -> /elsewhere`` would otherwise make a run write, or overwrite, files
wherever the link points. As careful tools do (``O_NOFOLLOW``, one component at a
time), a link where netsim writes is refused with an error that names it:

- :func:`refuse_links` checks the names a run will write before it writes any, so a
  refused run leaves nothing half written;
- :func:`open_new` opens a file with ``O_NOFOLLOW``, each folder on the way from the
  root opened with ``O_NOFOLLOW`` too and the next opened relative to it, so a link
  swapped in after the check is refused as well;
- :func:`write_into_place` serves writers that want a path (matplotlib, pandas): they
  write a fresh hidden name, which is renamed over the real one — a rename replaces a
  link, it never writes through it.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path
from typing import Callable, Iterable

from netsim.errors import ScenarioError

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


def refused(path: Path) -> ScenarioError:
    try:
        target = f" (to {os.readlink(path)})"
    except OSError:
        target = ""
    return ScenarioError(f"{path} is a symbolic link{target}: netsim writes nothing through a "
                         f"link in its output folder (remove it, or choose another folder)",
                         path="-o", source="command line")


def refuse_links(root: Path, names: Iterable[str]) -> None:
    """Raise for the first of ``names`` (relative to ``root``, ``pcap/a.pcap``) that
    is, or lies under, a symbolic link; names that do not exist yet are fine."""
    checked: set[Path] = set()
    for name in names:
        path = Path(root)
        for part in Path(name).parts:
            path = path / part
            if path in checked:
                continue
            checked.add(path)
            if os.path.islink(path):
                raise refused(path)


def _folder_fd(root: Path, parts: tuple[str, ...]) -> int:
    """A descriptor of ``root/parts…``, each part made if missing and opened with
    O_NOFOLLOW relative to the one before (the root itself is followed)."""
    os.makedirs(root, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    path = Path(root)
    try:
        for part in parts:
            path = path / part
            try:
                os.mkdir(part, dir_fd=fd)
            except FileExistsError:
                pass
            try:
                child = os.open(part, _DIRECTORY, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(path):
                    raise refused(path) from None
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_folder(path: Path, root: Path | None = None) -> Path:
    """``path`` as a real folder under ``root`` (default: its parent), made if missing."""
    root = Path(path).parent if root is None else Path(root)
    os.close(_folder_fd(root, Path(path).relative_to(root).parts))
    return Path(path)


def open_new(path: Path, mode: str = "wb", *, root: Path | None = None):
    """``path`` opened for writing (``"wb"`` or ``"w"``, UTF-8), truncated or made,
    never through a link: not at its name, nor at any folder between ``root``
    (default: its parent) and it."""
    path = Path(path)
    root = path.parent if root is None else Path(root)
    folder = _folder_fd(root, path.parent.relative_to(root).parts)
    try:
        try:
            fd = os.open(path.name, _NEW_FILE, 0o666, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise refused(path) from None
            raise
    finally:
        os.close(folder)
    if "b" in mode:
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding="utf-8")


def write_into_place(path: Path, write: Callable[[Path], object]) -> Path:
    """Let ``write(temporary path)`` make the file, then rename it to ``path``; the
    temporary name is hidden, unguessable and keeps the suffix (writers choose their
    format by it)."""
    path = Path(path)
    if os.path.islink(path):
        raise refused(path)
    temporary = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.part{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    return path
