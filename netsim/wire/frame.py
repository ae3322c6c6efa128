"""A frame: the bytes on the wire, a lazy Scapy view, and a one-line summary."""

from __future__ import annotations

from netsim.wire import scapy_layers


class Frame:
    """The bytes of one Ethernet frame (no preamble, no FCS).

    ``id`` is given by the trace when the frame is first recorded; a frame forwarded
    unchanged (by a switch) keeps its id, a frame a router rewrites is a new frame.
    ``pkt`` dissects the bytes with Scapy on first use, for display and exploration.

    ``verified`` marks bytes that netsim's template engine built (or a router patched
    with an RFC 1624 update): their checksums are right by construction — a property
    test holds the engine to Scapy's own build — so receivers skip re-verifying them,
    as a NIC with checksum offload marks a frame ``CHECKSUM_UNNECESSARY``. Frames from
    anywhere else (``Frame(raw_bytes)``) are verified in full.
    """

    __slots__ = ("data", "id", "verified", "_pkt")

    def __init__(self, data: bytes, verified: bool = False) -> None:
        self.data = data
        self.id = -1
        self.verified = verified
        self._pkt = None

    @property
    def pkt(self):
        if self._pkt is None:
            self._pkt = scapy_layers.dissect(self.data)
        return self._pkt

    def summary(self) -> str:
        from netsim.wire.describe import describe
        return describe(self.data).label

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<Frame #{self.id} {len(self.data)}B {self.summary()}>"
