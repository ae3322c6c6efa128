"""Scapy, imported on first use, kept offline, with the one binding netsim adds.

Importing ``scapy.all`` costs most of a second; the few layer modules here cost a
third of that and are needed only when a template is first built or a frame first
shown, so nothing imports them at start-up.

Offline: on import Scapy reads the host's interfaces and routing tables (over
netlink on Linux) to prepare for sending. netsim never sends (README design
principle 9), so route autoloading is switched off and the netlink readers are replaced,
as the module that defines them loads, by ones that report nothing.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
from types import SimpleNamespace

_NETLINK = "scapy.arch.linux.rtnetlink"


class _OfflineScapy(importlib.abc.MetaPathFinder):
    """Loads Scapy's netlink module with its host-reading functions stubbed out."""

    def find_spec(self, name, path, target=None):
        if name != _NETLINK:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            module._get_if_list = lambda *a, **k: {}
            module.read_routes = lambda *a, **k: []
            module.read_routes6 = lambda *a, **k: []
            module.in6_getifaddr = lambda *a, **k: []
        spec.loader.exec_module = exec_module
        return spec


def _go_offline() -> None:
    if _NETLINK not in sys.modules and not any(isinstance(f, _OfflineScapy) for f in sys.meta_path):
        sys.meta_path.insert(0, _OfflineScapy())
    from scapy.config import conf
    conf.route_autoload = False
    conf.route6_autoload = False
    conf.verb = 0


@functools.cache
def load() -> SimpleNamespace:
    """Import Scapy's L2/IPv4 layers offline and bind RARP; returns them by name."""
    _go_offline()
    from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
    from scapy.layers.l2 import ARP, LLC, STP, Dot3, Ether
    from scapy.packet import Padding, Raw, bind_bottom_up

    # RARP (RFC 903) is ARP's layout under ethertype 0x8035. Bind it bottom-up only:
    # a two-way binding would make every Ether()/ARP() default to 0x8035.
    bind_bottom_up(Ether, ARP, type=0x8035)
    return SimpleNamespace(Ether=Ether, ARP=ARP, IP=IP, UDP=UDP, ICMP=ICMP, TCP=TCP,
                           Dot3=Dot3, LLC=LLC, STP=STP,
                           Raw=Raw, Padding=Padding, IPerror=IPerror, UDPerror=UDPerror)


def dissect(data: bytes):
    """A Scapy ``Ether`` packet dissected from ``data``."""
    return load().Ether(data)
