"""pcapng with a Decryption Secrets Block: the same frames as the pcap, and Wireshark
opens the TLS inside without being given the key log."""

import struct

import pytest

from netsim import load_scenario, run_scenario
from netsim.trace.pcapng import header, packet
from tests.conftest import SCENARIOS, require_tshark, tshark_fields


def test_blocks_are_laid_out_as_the_specification_says():
    secrets = b"CLIENT_RANDOM 00 11\n"                   # 20 bytes: padded to 20
    head = header(secrets)
    kinds, at = [], 0
    while at < len(head):
        kind, total = struct.unpack_from("<II", head, at)
        assert total % 4 == 0 and struct.unpack_from("<I", head, at + total - 4)[0] == total
        kinds.append(kind)
        at += total
    assert kinds == [0x0A0D0D0A, 1, 0x0A]
    dsb = head[-(12 + 8 + 20):]
    assert struct.unpack_from("<II", dsb, 8) == (0x544C534B, len(secrets)) and secrets in dsb
    frame = packet(1.5, b"\x01\x02\x03")                  # 1.5 s in nanoseconds, padded
    _kind, total, _if, high, low, cap, orig = struct.unpack_from("<IIIIIII", frame)
    assert (total, (high << 32) | low, cap, orig) == (36, 1_500_000_000, 3, 3)


@pytest.fixture(scope="module")
def https(tmp_path_factory):
    out = tmp_path_factory.mktemp("https")
    run_scenario(load_scenario(SCENARIOS / "https.yaml"), out)
    return out


def test_each_link_has_a_pcapng_with_the_pcaps_frames(https):
    for pcap in sorted((https / "pcap").glob("*.pcap")):
        pcapng = pcap.with_suffix(".pcapng")
        fields = ("frame.time_epoch", "frame.len", "eth.src", "ip.id", "ip.checksum", "tcp.seq_raw",
                  "udp.checksum")
        assert tshark_fields(pcapng, *fields) == tshark_fields(pcap, *fields), pcap.name


def test_wireshark_reads_the_http_inside_with_no_key_log_given(https):
    require_tshark()
    pcapng = https / "pcap" / "alice-lan.pcapng"
    inside = tshark_fields(pcapng, "http.request.uri", display_filter="http.request")
    with_keys = tshark_fields(https / "pcap" / "alice-lan.pcap", "http.request.uri",
                              display_filter="http.request", decrypt=True)
    assert inside and inside == with_keys
    assert tshark_fields(https / "pcap" / "alice-lan.pcap", "http.request.uri",
                         display_filter="http.request") == []      # the pcap alone: ciphertext
