"""Key paths the way people write them: ``links[2].endpoints[1]``."""

from __future__ import annotations


import json
import re

#: A key written bare in a path; any other (``www.campus.edu``, ``/index.html``, ``*``) is
#: written in brackets and quotes, so a dotted host name cannot read as two keys.
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path) -> str:
    """``links[2].endpoints[1]``, ``apps[0].sites["www.campus.edu"]["/index.html"].etag``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _BARE.match(str(part)):
            text += ("." if text else "") + str(part)
        else:
            text += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return text or "(top level)"


def line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line of ``path``, or of its nearest ancestor that is in the file."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())
