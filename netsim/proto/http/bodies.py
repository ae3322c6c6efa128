"""Deterministic bodies a dissector accepts: HTML pages that reference their objects, and
PNG images that are real PNGs (a capture of an ``image/png`` body that is not one is
malformed to Wireshark)."""

from __future__ import annotations

import struct
import zlib

from netsim.proto.ftp.tree import content_of

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def page_html(path: str, embeds: list[str], body: bytes | int, version: int) -> bytes:
    """An HTML page referencing ``embeds`` the way pages do — stylesheets in the head,
    scripts and images in the body — padded with text to the size asked for."""
    head = [f"<!DOCTYPE html>\n<html><head><title>{path}</title>"]
    tail = []
    for url in embeds:
        bare = url.split("?", 1)[0]
        if bare.endswith(".css"):
            head.append(f'<link rel="stylesheet" href="{url}">')
        elif bare.endswith(".js"):
            tail.append(f'<script src="{url}"></script>')
        else:
            tail.append(f'<img src="{url}" alt="">')
    start = "\n".join(head) + "\n</head><body>\n" + (f"<!-- version {version} -->\n" if version else "")
    end = "\n".join(tail) + "\n</body></html>\n"
    if isinstance(body, int):
        filler = content_of(f"{path}#v{version}", max(0, body - len(start) - len(end) - 7))
        text = b"<p>" + filler + b"</p>\n"
    else:
        text = body
    return start.encode() + text + end.encode()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))


def png_of(name: str, size: int) -> bytes:
    """A valid PNG of ``size`` bytes (at least 67): a 1×1 grey pixel, then a private
    ancillary chunk (``npAd``, safe to ignore by PNG §5.4) of deterministic bytes."""
    head = PNG_SIGNATURE + _chunk(b"IHDR", struct.pack("!IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixel = _chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    end = _chunk(b"IEND", b"")
    room = size - len(head) - len(pixel) - len(end) - 12
    padding = _chunk(b"npAd", content_of(name, room)) if room >= 0 else b""
    return head + padding + pixel + end
