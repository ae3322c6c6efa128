"""An FTP server's files: a tree of directories and files in memory, with Unix paths.

A scenario writes ``files: {report.txt: 200KiB, docs/readme.txt: "hello"}``: a size
makes deterministic content (the same bytes for the same path, every run), a string is
the content itself. Paths never leave the tree: ``..`` above the root stays at the root,
as a chrooted server's do. Names and paths are as long as Linux lets them be (255 bytes a
name, 4096 a path), and a directory cannot be moved into itself (rename(2)'s EINVAL).
"""

from __future__ import annotations

import hashlib
import posixpath
import random
from dataclasses import dataclass, field


#: The most bytes netsim makes up for one file, body or attachment: scenarios name sizes,
#: and a typo's 2⁶⁴ must be a located error, not a run that never ends.
MAX_GENERATED = 64 << 20
#: Linux's NAME_MAX and PATH_MAX: a longer name or path is ENAMETOOLONG, an error reply.
NAME_MAX, PATH_MAX = 255, 4096


def check_generated_size(size: int, what: str) -> int:
    if size > MAX_GENERATED:
        raise ValueError(f"{what}: {size} bytes is more than netsim makes up for one file "
                         f"(at most {MAX_GENERATED >> 20} MiB)")
    return size


def content_of(path: str, size: int) -> bytes:
    """``size`` bytes that depend only on the path: text lines, so TYPE A has line ends
    to convert and a capture shows readable data."""
    check_generated_size(size, path)
    rng = random.Random(hashlib.sha256(path.encode()).digest())
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    out = bytearray()
    line = 0
    while len(out) < size:
        line += 1
        out += f"{line:06d} {' '.join(rng.choice(words) for _ in range(8))}\n".encode()
    return bytes(out[:size])


@dataclass
class Node:
    name: str
    data: bytes | None = None                  # None for a directory
    children: dict[str, "Node"] = field(default_factory=dict)
    modified: float = 0.0                      # simulated time it was last written

    @property
    def is_dir(self) -> bool:
        return self.data is None


class FileTree:
    def __init__(self) -> None:
        self.root = Node("/")

    @classmethod
    def from_spec(cls, files: dict) -> "FileTree":
        tree = cls()
        for path, value in files.items():
            try:
                path.encode("utf-8")            # a name a listing can carry
            except UnicodeEncodeError:
                raise ValueError(f"files: {path!r} is not a file name that can be sent") from None
            data = value.encode() if isinstance(value, str) else content_of(path, int(value))
            tree.write(normalize("/", path), data, 0.0)
        return tree

    # -- lookups ----------------------------------------------------------------------------

    def find(self, path: str) -> Node | None:
        if not fits(path):
            return None
        node = self.root
        for part in [p for p in path.split("/") if p]:
            if not node.is_dir or part not in node.children:
                return None
            node = node.children[part]
        return node

    def parent_of(self, path: str) -> tuple[Node | None, str]:
        head, name = posixpath.split(path.rstrip("/") or "/")
        return self.find(head), name

    # -- changes ----------------------------------------------------------------------------

    def write(self, path: str, data: bytes, now: float) -> None:
        node = self.root
        parts = [p for p in path.split("/") if p]
        for part in parts[:-1]:
            node = node.children.setdefault(part, Node(part, modified=now))
        node.children[parts[-1]] = Node(parts[-1], data, modified=now)

    def mkdir(self, path: str, now: float) -> bool:
        parent, name = self.parent_of(path)
        if not fits(path) or parent is None or not parent.is_dir or not name or name in parent.children:
            return False
        parent.children[name] = Node(name, modified=now)
        return True

    def remove(self, path: str, *, directory: bool) -> bool:
        parent, name = self.parent_of(path)
        node = parent.children.get(name) if parent is not None else None
        if node is None or node.is_dir != directory or (directory and node.children):
            return False
        del parent.children[name]
        return True

    def rename(self, old: str, new: str) -> bool:
        parent, name = self.parent_of(old)
        target_parent, target_name = self.parent_of(new)
        if parent is None or name not in parent.children or target_parent is None or \
                not target_parent.is_dir or not target_name or \
                target_name in target_parent.children or not fits(new):
            return False
        if (new + "/").startswith(old.rstrip("/") + "/"):
            return False                     # into itself: the tree would become a loop
        node = parent.children.pop(name)
        node.name = target_name
        target_parent.children[target_name] = node
        return True

    def listing(self) -> dict:
        """Every file's path → size and SHA-256, for a run's summary."""
        out = {}
        # Depth first in name order, as a recursive walk would go, but with a stack of
        # its own: a client may nest directories deeper than Python's.
        stack = [("", iter(sorted(self.root.children.items())))]
        while stack:
            prefix, children = stack[-1]
            for name, child in children:
                path = f"{prefix}/{name}"
                if child.is_dir:
                    out[path + "/"] = {"directory": True}
                    stack.append((path, iter(sorted(child.children.items()))))
                    break
                out[path] = {"size": len(child.data),
                             "sha256": hashlib.sha256(child.data).hexdigest()}
            else:
                stack.pop()
        return out


def fits(path: str) -> bool:
    """Whether Linux would take ``path``: no name over NAME_MAX bytes, all of it within
    PATH_MAX."""
    encoded = path.encode("utf-8", "replace")
    return len(encoded) <= PATH_MAX and all(len(part) <= NAME_MAX for part in encoded.split(b"/"))


def normalize(cwd: str, path: str) -> str:
    """``path`` (absolute or relative to ``cwd``) as an absolute path inside the tree."""
    joined = posixpath.normpath(posixpath.join(cwd, path))
    # normpath keeps a leading "//" and lets ".." climb from "/": both end at the root.
    parts = [p for p in joined.split("/") if p and p != ".."]
    return "/" + "/".join(parts)
