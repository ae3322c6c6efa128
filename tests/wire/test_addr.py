"""Addresses between their text and the stack's ints."""

import struct

import pytest

from netsim.wire.addr import int_to_ip, ip_to_int


def test_an_address_is_formatted_the_same_from_the_cache():
    assert int_to_ip(0x0A000001) == "10.0.0.1"
    assert int_to_ip(0x0A000001) == "10.0.0.1"
    assert int_to_ip(ip_to_int("192.168.1.254")) == "192.168.1.254"
    assert int_to_ip(True) == "0.0.0.1"          # an int, as struct takes it


def test_a_float_is_no_address_even_when_its_int_was_formatted_before():
    int_to_ip(0x0A000001)
    with pytest.raises(struct.error):
        int_to_ip(167772161.0)
