"""The guard against touching the real network is itself tested, so it cannot rot."""

import socket

import pytest

from tests.conftest import RealNetworkTouched


def test_sockets_cannot_connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(RealNetworkTouched):
            s.sendto(b"x", ("127.0.0.1", 9))
    finally:
        s.close()


def test_scapy_cannot_send():
    import scapy.sendrecv
    with pytest.raises(RealNetworkTouched):
        scapy.sendrecv.sendp(b"\x00" * 60)


def test_a_whole_scenario_runs_under_the_guard():
    from netsim import load_scenario, run_scenario
    from tests.conftest import SCENARIOS
    result = run_scenario(load_scenario(SCENARIOS / "router-chain.yaml"))
    assert result.app("traceroute").result()["reached"]
