"""Captures: one classic pcap per link, as if tcpdump ran on that wire.

A frame appears in a link's capture when it was put on that link and not lost on
it, stamped with the time its first bit left (nanosecond resolution, since
simulated links can be fast). A frame forwarded over three links appears in three
files, so each file reads like a real capture and TCP analysis stays honest.
"""

from __future__ import annotations

import struct
from pathlib import Path

from netsim.trace.outfiles import make_folder, open_new
from netsim.trace.recorder import TX, Trace

_PCAP_NS_MAGIC = 0xA1B23C4D
_LINKTYPE_ETHERNET = 1
_GLOBAL = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")


def pcap_bytes(frames: list[tuple[float, bytes]]) -> bytes:
    """A pcap file (nanosecond timestamps, Ethernet) holding ``(time, bytes)`` frames."""
    parts = [_GLOBAL.pack(_PCAP_NS_MAGIC, 2, 4, 0, 0, 262144, _LINKTYPE_ETHERNET)]
    for t, data in frames:
        ns = round(t * 1e9)
        if not 0 <= ns < (1 << 32) * 1_000_000_000:
            raise ValueError(f"a frame at {t} s is beyond what a pcap can stamp (2³² s)")
        parts.append(_RECORD.pack(ns // 1_000_000_000, ns % 1_000_000_000, len(data), len(data)))
        parts.append(data)
    return b"".join(parts)


def file_name(link: str, limit: int = 120) -> str:
    """``<link>.pcap``, shortened with a stable suffix where a file system would refuse
    the name (two long node names make a long link name; most allow 255 bytes)."""
    if len(link.encode()) + 5 <= limit:
        return f"{link}.pcap"
    import hashlib
    digest = hashlib.sha256(link.encode()).hexdigest()[:10]
    return f"{link.encode()[:limit - 16].decode(errors='ignore')}-{digest}.pcap"


def write_link_pcaps(trace: Trace, directory: Path, links: list[str] | None = None, *,
                     root: Path | None = None) -> list[Path]:
    """Write ``<directory>/<link>.pcap`` for every link (empty files for silent links),
    in one pass over the records in time order, each frame written as it comes: no
    capture is held in memory. Nothing is written through a symbolic link at a file,
    nor at a folder between ``root`` (the output folder; default ``directory``) and it
    (:mod:`netsim.trace.outfiles`)."""
    return write_per_link(trace, directory, links, root=root, suffix="",
                          header=pcap_bytes([]), record=_record)


def _record(t: float, data: bytes) -> bytes:
    return pcap_bytes([(t, data)])[_GLOBAL.size:]


def write_per_link(trace: Trace, directory: Path, links: list[str] | None, *, root: Path | None,
                   suffix: str, header: bytes, record) -> list[Path]:
    """One capture file a link, ``file_name(link) + suffix``: ``header``, then
    ``record(time, bytes)`` for each frame put on that link, in time order."""
    directory = make_folder(Path(directory), directory if root is None else root)
    ports = trace.ports
    names = links if links is not None else sorted({p.link for p in ports if p.link})
    paths = {name: directory / (file_name(name) + suffix) for name in names}
    files = {}
    try:
        for name, path in paths.items():
            files[name] = open_new(path, "wb", root=root if root is not None else directory)
            files[name].write(header)
        for t, kind, port, frame, _reason in trace.ordered():
            if kind == TX:
                out = files.get(ports[port].link)
                if out is not None:
                    out.write(record(t, trace.frame_bytes(frame)))
    finally:
        for out in files.values():
            out.close()
    return list(paths.values())
