from hypothesis import given
from hypothesis import strategies as st

from netsim.wire import scapy_layers
from netsim.wire.checksum import internet_checksum, update_checksum
from netsim.wire.templates import UdpTemplate


def reference_checksum(data: bytes) -> int:
    """RFC 1071, word by word with end-around carry."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@given(st.binary(max_size=200))
def test_checksum_equals_rfc1071_word_sum(data):
    assert internet_checksum(data) == reference_checksum(data)


def test_all_zero_and_all_ones_edge_cases():
    assert internet_checksum(b"") == 0xFFFF
    assert internet_checksum(b"\0\0\0\0") == 0xFFFF
    assert internet_checksum(b"\xff\xff") == 0x0000
    assert internet_checksum(b"\xff\xff\xff\xff") == reference_checksum(b"\xff\xff\xff\xff")


@given(st.binary(min_size=20, max_size=20), st.integers(1, 255))
def test_incremental_ttl_update_equals_recomputation(header, ttl):
    # A header with a correct checksum, TTL decremented as a router does (RFC 1624).
    header = bytearray(header)
    header[0] = 0x45
    header[8] = ttl
    header[10:12] = b"\0\0"
    header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")
    old_word = (header[8] << 8) | header[9]
    checksum = int.from_bytes(header[10:12], "big")
    header[8] -= 1
    new = update_checksum(checksum, old_word, old_word - 256)
    header[10:12] = b"\0\0"
    assert new == internet_checksum(bytes(header))


def test_forwarded_frame_checksum_is_what_scapy_computes():
    S = scapy_layers.load()
    data = UdpTemplate(b"\x02" * 6, b"\x04" * 6, 0x0A000001, 0x0A000102, 5, 6).build(b"abc", 99, 17)
    pkt = S.Ether(data)
    checksum = pkt[S.IP].chksum
    del pkt[S.IP].chksum
    assert S.Ether(bytes(pkt))[S.IP].chksum == checksum
