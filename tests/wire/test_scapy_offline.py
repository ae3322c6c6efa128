"""Loading Scapy the netsim way opens no socket: it reads neither interfaces nor routes."""

import subprocess
import sys

PROGRAM = r"""
import socket
opened = []
class Counting(socket.socket):
    def __init__(self, *a, **k):
        opened.append(a)
        super().__init__(*a, **k)
socket.socket = Counting
from netsim.wire import scapy_layers
from netsim.wire.templates import UdpTemplate
scapy_layers.load()
UdpTemplate(b"\x02" * 6, b"\x04" * 6, 1, 2, 3, 4).build(b"x", 1)
scapy_layers.dissect(b"\xff" * 60).summary()
print(len(opened))
"""


def test_scapy_opens_no_socket():
    out = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0", out.stderr
