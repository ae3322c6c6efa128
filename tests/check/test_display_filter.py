"""Wireshark's display-filter language over netsim's fields: the parser's precedence and
forms, the evaluator's any/every rules, and the located errors a teacher sees.

Each case is a filter over hand-made field dicts (what :class:`CaptureFields` gives a
frame: every field a list of its occurrences); ``test_filters_agree_with_tshark`` holds
the same filters against tshark over real captures.
"""

from __future__ import annotations

import pytest

from netsim.check.display_filter import FilterError, parse

#: A DNS query from alice: a UDP frame with no TCP, ARP or HTTP fields at all.
QUERY = {"eth.src": ["02:00:00:00:00:0a"], "eth.dst": ["ff:ff:ff:ff:ff:ff"],
         "eth.addr": ["ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0a"],
         "ip": [True], "ip.src": ["10.0.1.10"], "ip.dst": ["10.0.1.53"],
         "ip.addr": ["10.0.1.10", "10.0.1.53"], "ip.ttl": [64], "ip.flags.df": [False],
         "udp": [True], "udp.srcport": [40000], "udp.dstport": [53],
         "udp.port": [40000, 53], "dns": [True], "dns.flags.response": [False],
         "dns.flags.recdesired": [True], "dns.qry.name": ["www.163.com"], "dns.qry.type": [1]}
#: A SYN from alice to a web server.
SYN = {"ip": [True], "ip.src": ["10.0.1.10"], "ip.dst": ["10.0.2.80"],
       "ip.addr": ["10.0.1.10", "10.0.2.80"], "ip.ttl": [64], "tcp": [True],
       "tcp.srcport": [51000], "tcp.dstport": [80], "tcp.port": [51000, 80], "tcp.len": [0],
       "tcp.seq": [0], "tcp.ack": [0], "tcp.flags.syn": [True], "tcp.flags.ack": [False],
       "tcp.flags.fin": [False]}
#: Two pipelined requests completed by one segment: two occurrences of each HTTP field.
PIPELINED = {**SYN, "tcp.flags.syn": [False], "tcp.flags.ack": [True], "tcp.len": [120],
             "http": [True], "http.request": [True, True],
             "http.request.method": ["GET", "HEAD"],
             "http.request.uri": ["/logo.png", "/index.html"],
             "http.host": ["www.example.com", "www.example.com"],
             "http.request.line": ["Host: www.example.com\r\n", "If-None-Match: \"v1\"\r\n"]}
#: A router's Time Exceeded: its own IP header, then the quoted probe's (TTL 1, UDP).
TIME_EXCEEDED = {"ip": [True], "ip.src": ["10.0.1.1", "10.0.1.10"],
                 "ip.dst": ["10.0.1.10", "10.0.2.20"], "ip.ttl": [64, 1],
                 "ip.addr": ["10.0.1.1", "10.0.1.10", "10.0.1.10", "10.0.2.20"],
                 "icmp": [True], "icmp.type": [11], "udp": [True], "udp.dstport": [33434]}


def matches(text: str, fields: dict) -> bool:
    return parse(text)(fields)


# -- precedence and forms ------------------------------------------------------------------

@pytest.mark.parametrize("text, query, syn", [
    # && binds tighter than ||: "udp || (tcp && udp)", not "(udp || tcp) && udp".
    ("udp || tcp && udp", True, False),
    ("tcp && udp || udp", True, False),
    ("(udp || tcp) && tcp", False, True),
    ("udp || tcp && tcp.flags.syn == 0", True, False),
    # ! binds tighter than && and ||, and applies to a whole comparison.
    ("!udp && ip", False, True),
    ("!udp || udp", True, True),
    ("!(udp || tcp)", False, False),
    ("!!tcp", False, True),
    ("!udp.dstport == 53", False, True),
    # Word forms, mixed with symbols.
    ("udp and not tcp", True, False),
    ("tcp or udp and tcp", False, True),
    ("tcp.dstport eq 80 and ip.ttl ge 64 and ip.ttl le 64", False, True),
    ("ip.ttl gt 63 && ip.ttl lt 65 && tcp.dstport ne 81", False, True),
    ("((tcp))", False, True),
])
def test_precedence_negation_parentheses_and_word_forms(text, query, syn):
    assert (matches(text, QUERY), matches(text, SYN)) == (query, syn), text


def test_an_operator_word_inside_a_name_or_a_string_is_no_operator():
    assert matches('dns.qry.name contains "and"', {"dns.qry.name": ["sand.example"]})
    assert not matches('dns.qry.name == "not"', {"dns.qry.name": ["or"]})
    assert matches('dns.qry.name == "or" || dns.qry.name == "not"', {"dns.qry.name": ["not"]})


# -- comparisons ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, wanted", [
    ("tcp.port in {21, 80}", True),
    ("tcp.port in {21, 20}", False),
    ("tcp.dstport in {79..81}", True),
    ("tcp.dstport in {79 .. 81, 443}", True),
    ("tcp.dstport in {81..90}", False),
    ("tcp.dstport in {90..79}", False),          # an empty range
    ('ip.src in {10.0.9.9, 10.0.1.10}', True),
    ("ip.dst in {10.0.2.0/24}", True),
])
def test_in_takes_a_set_of_values_ranges_and_networks(text, wanted):
    assert matches(text, SYN) is wanted, text


@pytest.mark.parametrize("text, wanted", [
    ('http.request.uri contains "png"', True),      # any occurrence: the first request's
    ('http.request.uri contains "PNG"', False),     # contains is case-sensitive
    ('http.request.line contains "If-None-Match"', True),
    ('http.request.uri matches "\\\\.html$"', True),
    ('http.request.uri matches "^/INDEX"', True),   # matches is caseless…
    ('http.request.uri matches "(?-i)^/INDEX"', False),   # …unless told otherwise
    ('http.host matches "^www\\\\.example\\\\.com$"', True),
    ('http.request.method == "HEAD"', True),
    ('http.request.method == "head"', False),
    ("http.request.method == GET", True),           # a bare word is a string value
    ('http.host > "www.a"', True),                  # strings are ordered byte by byte
    ('http.host < "www.a"', False),
])
def test_contains_matches_and_strings_over_several_occurrences(text, wanted):
    assert matches(text, PIPELINED) is wanted, text


@pytest.mark.parametrize("text, wanted", [
    ("ip.src == 10.0.1.0/24", True),
    ("ip.src == 10.0.0.0/8", True),
    ("ip.src == 10.0.2.0/24", False),
    ("ip.addr == 10.0.2.0/24", True),              # the destination is in it
    ("ip.dst == 10.0.1.53/32", False),
    ("ip.src == 10.0.1.10", True),
    ("ip.src == 10.0.1.1", False),                 # an address is no prefix of another
    ("eth.dst == FF-FF-FF-FF-FF-FF", False),        # SYN has no eth fields here
])
def test_addresses_and_networks(text, wanted):
    assert matches(text, SYN) is wanted, text


def test_mac_addresses_compare_in_any_case_and_separator():
    assert matches("eth.dst == FF-FF-FF-FF-FF-FF", QUERY)
    assert matches("eth.addr == 02:00:00:00:00:0A", QUERY)
    assert not matches("eth.src == ff:ff:ff:ff:ff:ff", QUERY)


@pytest.mark.parametrize("text, wanted", [
    # == asks whether any occurrence matches; != whether every one differs.
    ("ip.ttl == 1", True),                          # the quoted probe's TTL
    ("ip.ttl == 64", True),
    ("ip.ttl != 1", False),                         # not "some TTL is not 1"
    ("ip.ttl != 2", True),
    ("!(ip.ttl == 1)", False),
    ("ip.src != 10.0.1.1", False),
    ("ip.addr != 10.0.3.3", True),
    # Each test picks its own occurrence: 64 > 1, and 1 < 64, though neither is between.
    ("ip.ttl > 1 && ip.ttl < 64", True),
    ("ip.ttl > 64 || ip.ttl < 1", False),
    ("ip.ttl >= 1 && ip.ttl <= 1", True),
])
def test_equal_is_any_occurrence_and_not_equal_is_every_occurrence(text, wanted):
    assert matches(text, TIME_EXCEEDED) is wanted, text


@pytest.mark.parametrize("text, query, syn", [
    # A bare field asks whether the frame has it — a flag that is 0 is there.
    ("tcp.flags.syn", False, True),
    ("tcp.flags.ack", False, True),
    ("udp", True, False),
    ("dns.qry.name", True, False),
    ("!tcp.flags.ack", True, False),
    # A test of a field the frame lacks is false — with == and with != alike.
    ("tcp.flags.syn == 0", False, False),
    ("tcp.flags.syn != 1", False, False),
    ("udp.port != 53", False, False),
    ("udp.port != 54", True, False),
])
def test_a_bare_field_is_presence_and_a_missing_field_fails_every_comparison(text, query, syn):
    assert (matches(text, QUERY), matches(text, SYN)) == (query, syn), text


@pytest.mark.parametrize("value, wanted", [
    ("1", True), ("0", False), ("true", True), ("false", False), ("True", True),
    ("FALSE", False), ("0x1", True), ("2", True),   # Wireshark: any number but 0 is set
])
def test_a_flag_compares_with_numbers_and_true_false(value, wanted):
    assert matches(f"tcp.flags.syn == {value}", SYN) is wanted
    assert matches(f"tcp.flags.ack == {value}", SYN) is not wanted


def test_numbers_in_hex_and_octal_forms():
    assert matches("tcp.dstport == 0x50", SYN)
    assert matches("eth.type == 0x0800", {"eth.type": [2048]})
    assert not matches("eth.type == 0x0806", {"eth.type": [2048]})


def test_a_filter_names_its_fields():
    assert parse('dns.qry.name == "x" && (udp || !tcp.flags.syn)').fields == {
        "dns.qry.name", "udp", "tcp.flags.syn"}


# -- located errors ------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("dns.qry.nmae == \"x\"", ["'dns.qry.nmae' is not a field", "did you mean dns.qry.name?",
                               "column 1"]),
    ("udp && tcp.flgas.syn == 1", ["'tcp.flgas.syn' is not a field", "did you mean tcp.flags.syn?",
                                   "column 8"]),
    ("http.if_none_match", ["'http.if_none_match' is not a field"]),   # Wireshark has none
    ("icmp.type == echo", ["icmp.type is a number; 'echo' is not one", "column 14"]),
    ("tcp.flags.syn == maybe", ["tcp.flags.syn is a flag; 'maybe' is not one", "column 18"]),
    ("ip.src == 10.0.0.0/33", ["'10.0.0.0/33' is neither an address nor a network", "column 11"]),
    ("ip.dst == shop", ["ip.dst holds IPv4 addresses", "not its name", "column 11"]),
    ("eth.src == zz", ["eth.src holds MAC addresses", "column 12"]),
    ("(" * 65 + "ip" + ")" * 65, ["nested more than 64 deep"]),
    ("(udp || tcp", ["a '(' is not closed", "column 12"]),
    ("((udp) && tcp", ["a '(' is not closed"]),
    ("udp)", ["unexpected ')'", "column 4"]),
    ("tcp.port in {21 20}", ["separated by commas", "column 17"]),   # Wireshark 4's rule
    ("tcp.port in {21, 20", ["a '{' is not closed"]),
    ("tcp.port in 21", ["'in' takes a set"]),
    ("tcp.port in {}", ["an empty set"]),
    ('http.host in {"a".."b"}', ["a range needs numbers"]),
    ('http.host matches "("', ["is not a regular expression", "column 19"]),
    ("tcp.port ==", ["it ends too soon"]),
    ("tcp.port == == 80", ["expected a value after '==', not '=='", "column 13"]),
    ("&& tcp", ["expected a field, not '&&'", "column 1"]),
    ("tcp.port == 80 $", ["cannot read '$'", "column 16"]),
])
def test_errors_say_what_is_wrong_and_where(text, words):
    with pytest.raises(FilterError) as caught:
        parse(text)
    message = str(caught.value)
    assert repr(text) in message
    for word in words:
        assert word in message, (text, message)


def test_a_thousand_terms_parse_and_evaluate_without_recursion():
    parse(" || ".join(["tcp.port == 1"] * 1000) + " || udp")({"udp": [True]})


def test_frame_contains_reads_utf8_bytes_escapes_and_byte_literals():
    frame = {"frame": ["GET /?q=秘密 HTTP/1.1\r\n".encode().decode("latin-1")]}
    assert parse('frame contains "秘密"')(frame)
    assert parse('frame contains "\\x47ET"')(frame)            # \xHH
    assert parse('frame contains "1.1\\r\\n"')(frame)
    assert parse("frame contains 0d:0a")(frame)
    assert not parse('frame contains "rn"')(frame)
