"""Scapy, imported on first use, with the one binding netsim adds.

Importing ``scapy.all`` costs most of a second; these few layer modules cost a
third of that and are only needed when a template is first built or a frame is
first shown, so nothing imports them at start-up.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace


@functools.cache
def load() -> SimpleNamespace:
    """Import Scapy's L2/IPv4 layers and bind RARP; returns them by name."""
    from scapy.config import conf
    conf.verb = 0
    from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
    from scapy.layers.l2 import ARP, Ether
    from scapy.packet import Padding, Raw, bind_bottom_up

    # RARP (RFC 903) is ARP's layout under ethertype 0x8035. Bind it bottom-up only:
    # a two-way binding would make every Ether()/ARP() default to 0x8035.
    bind_bottom_up(Ether, ARP, type=0x8035)
    return SimpleNamespace(Ether=Ether, ARP=ARP, IP=IP, UDP=UDP, ICMP=ICMP, TCP=TCP,
                           Raw=Raw, Padding=Padding, IPerror=IPerror, UDPerror=UDPerror)


def dissect(data: bytes):
    """A Scapy ``Ether`` packet dissected from ``data``."""
    return load().Ether(data)
