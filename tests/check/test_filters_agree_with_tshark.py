"""netsim's own reading of a capture agrees with tshark's, filter by filter.

A scenario's expectations are Wireshark display filters judged over netsim's decoding
(:mod:`netsim.wire.fields`), with no tshark at run time; a teacher checks them in
Wireshark. So for bundled scenarios covering every field family, each link's capture
is read twice — by one :class:`CaptureFields` in capture order, as tshark reads the
pcap, and by tshark itself — and every filter of :data:`FILTERS` must pick the same
frames in both.

tshark is run once a capture: a Lua listener per filter (``Listener.new(nil, filter)``
is called for each frame that filter passes, the test ``-Y`` makes), so a few thousand
filter/capture pairs cost a hundred tshark runs (some 20 s in all, two at a time).
:func:`test_the_listeners_select_what_dash_Y_selects` holds the listeners to ``-Y``.
"""

from __future__ import annotations

import os
import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from netsim.check.display_filter import parse
from netsim.scenario.loader import load_scenario
from netsim.scenario.runner import run_scenario
from netsim.trace.pcap import write_link_pcaps
from netsim.wire.fields import CaptureFields
from tests.conftest import SCENARIOS, require_tshark

#: Filters over every field family the captures below carry. Wireshark 4's syntax:
#: a set's members take commas, a flag compares with 1/0 (or True/False).
FILTERS = [
    # Ethernet, ARP (and RARP, which Wireshark's ARP dissector reads), STP's 802.3 frames
    "eth.type == 0x0806", "eth.type == 0x8035", "eth.dst == ff:ff:ff:ff:ff:ff", "eth.type",
    "frame.len > 1000", "frame.len < 64", 'frame contains "alice"',
    "arp", "arp.opcode == 1", "arp.opcode == 2", "arp.opcode in {3, 4}",
    "arp.dst.hw_mac == 00:00:00:00:00:00", "arp.src.proto_ipv4 == 10.0.0.0/8",
    # IPv4 and ICMP — an error's quoted datagram is a second IP header (and UDP/TCP one)
    "ip", "ip.ttl == 1", "ip.ttl < 64", "ip.ttl != 64", "ip.flags.df == 1", "ip.proto == 17",
    "ip.len > 1400", "ip.src == 10.0.0.0/8 && !icmp", "ip.addr == 10.0.1.0/24",
    "ip.dst == 255.255.255.255", "ip.src == 0.0.0.0", "ip.id == 0",
    "icmp", "icmp.type == 8", "icmp.type == 0", "icmp.type == 11", "icmp.type == 3",
    "icmp.code == 3", "icmp.seq == 1", "icmp.ident", "icmp.type == 11 && udp.dstport > 33000",
    # UDP, DNS, DHCP
    "udp", "udp.port == 53 || tcp.port == 25", "udp.dstport == 67", "udp.srcport == 68",
    "udp.length > 100", "udp.port != 53",
    "dns", "dns.flags.response == 0 && udp.dstport == 53", "dns.flags.response == 1",
    "dns.flags.recdesired == 1", "dns.flags.recdesired == 0", "dns.flags.recavail == 1",
    "dns.flags.recavail == 0", "dns.flags.authoritative == 1", "dns.flags.authoritative == 0",
    "dns.flags.rcode == 0", "dns.flags.rcode == 3", 'dns.qry.name == "www.163.com"',
    'dns.qry.name contains "163"', 'dns.qry.name == "<Root>"', "dns.qry.type == 1",
    "dns.qry.type == 15", "dns.count.answers == 0", "dns.count.answers > 0",
    "dns.count.auth_rr > 0", "dns.a", "dns.a == 10.0.0.0/8", "dns.cname", "dns.ns",
    'dns.ns contains "163"', "dns.mx.mail_exchange", "dns.id > 0x8000",
    "dhcp", "dhcp.option.dhcp == 1", "dhcp.option.dhcp == 2", "dhcp.option.dhcp == 3",
    "dhcp.option.dhcp == 5",
    # TCP: relative numbers, flags, ports
    "tcp", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "tcp.flags.syn == 1 && tcp.flags.ack == 1",
    "tcp.flags.fin == 1", "tcp.flags.reset == 1", "tcp.flags.push == 1", "tcp.flags.ack == 0",
    "tcp.srcport == 20", "tcp.dstport == 20", "tcp.len > 0", "tcp.len == 0", "tcp.len > 1000",
    "tcp.seq == 0", "tcp.seq == 1", "tcp.ack == 0", "tcp.ack == 1", "tcp.ack > 100000",
    "tcp.seq > 100000", "tcp.seq_raw > 100000", "tcp.ack_raw == 0",
    "tcp.window_size_value < 1000", "tcp.port in {21, 20}", "tcp.port in {80, 8080}",
    "tcp.port in {20..21, 25}", "tcp.flags.syn eq 1 or tcp.flags.fin eq 1",
    "tcp.port == 80 && !(tcp.len == 0)",
    # TCP analysis: what Wireshark suspects of a segment, from those before it
    "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order",
    "tcp.analysis.duplicate_ack", "tcp.analysis.retransmission && tcp.len > 1000",
    "tcp.analysis.retransmission && !tcp.analysis.fast_retransmission",
    "tcp.analysis.lost_segment", "tcp.analysis.zero_window", "tcp.analysis.window_update",
    "tcp.analysis.window_full", "tcp.analysis.keep_alive", "tcp.analysis.flags",
    "tcp.analysis.flags && !tcp.analysis.duplicate_ack",
    # HTTP: a message on the segment that completes it
    "http", "http.request", "http.response", 'http.request.method == "GET"',
    'http.request.method == "POST"', 'http.request.method == "HEAD"',
    'http.request.uri contains "png"', 'http.request.uri == "/"',
    'http.request.uri matches "\\\\.(css|js)$"', 'http.request.version == "HTTP/1.0"',
    'http.response.version == "HTTP/1.0"', "http.response.code == 304",
    "http.response.code == 200", "http.response.code in {301, 302, 303}",
    "http.response.code >= 400", 'http.response.phrase == "OK"', "http.host",
    'http.host contains "www"', "http.location", "http.cookie", "http.set_cookie",
    'http.cookie contains "session"', "http.content_length > 1000", "http.content_length == 0",
    'http.request.line contains "If-None-Match"', 'http.request.line contains "If-Modified-Since"',
    "http.last_modified", 'http.cache_control contains "max-age"',
    'http.connection == "close"', 'http.connection == "keep-alive"', "http.user_agent",
    "http.server", 'http.content_type contains "html"', 'http.response.line contains "Upgrade"',
    # FTP: the first line of a segment; the data connections a PORT or 227 announced
    "ftp", "ftp.request == 1", "ftp.response == 1", "ftp.request", 'ftp.request.command == "PASV"',
    'ftp.request.command == "PORT"', 'ftp.request.command == "USER"',
    'ftp.request.command == "RETR"', 'ftp.request.command == "LIST"',
    'ftp.request.arg contains "txt"', "ftp.request.arg", "ftp.response.code == 227",
    "ftp.response.code == 226", "ftp.response.code == 150", "ftp.response.code == 220",
    "ftp.response.code == 230", "ftp.response.code == 214", 'ftp.response.arg contains "Entering"',
    "ftp-data", "ftp-data && tcp.srcport == 20",
    # SMTP: four-letter commands, one code a reply, content after DATA
    "smtp", "smtp.req", "smtp.rsp", 'smtp.req.command == "MAIL"', 'smtp.req.command == "RCPT"',
    'smtp.req.command == "DATA"', 'smtp.req.command == "EHLO"', 'smtp.req.command == "QUIT"',
    'smtp.req.command == "AUTH"', 'smtp.req.command == "STAR"',
    'smtp.req.parameter contains "FROM"',
    "smtp.response.code == 354", "smtp.response.code == 250", "smtp.response.code == 220",
    "smtp.response.code == 221", "smtp.response.code == 235",
    # POP3, IMAP, TLS (by port, by STARTTLS/STLS, on the segments where a record starts or ends)
    "pop", 'pop.request.command == "RETR"', 'pop.request.command == "USER"',
    'pop.request.command == "STLS"', "pop.request.parameter", 'pop.response.indicator == "+OK"',
    "imap", 'imap.request.command == "FETCH"', 'imap.request.command == "LOGIN"',
    'imap.request.command == "SELECT"', 'imap.request.command == "STARTTLS"', "imap.request_tag",
    "tls", "tls && tcp.len > 1000", "tls && tcp.port == 25",
    # precedence and negation over real frames
    "not arp and not icmp", "udp || tcp && dns", "tcp && http || udp", "!(tcp.port == 80)",
    "ip.src != 10.0.1.10",
]

#: Scenario → filters that must select something in its captures, so that agreement is
#: never two empty sets (the fields each scenario is here for).
SCENARIO_FILTERS = {
    "dns-iterative": ['dns.qry.name == "www.163.com"', "dns.flags.recdesired == 0",
                      "dns.flags.authoritative == 1", "dns.ns", 'dns.qry.name == "<Root>"',
                      "dns.a"],
    "dhcp-relay": ["dhcp.option.dhcp == 1", "dhcp.option.dhcp == 5", "arp.opcode in {3, 4}",
                   "udp.dstport == 67", "ip.dst == 255.255.255.255"],
    "router-chain": ["icmp.type == 11", "ip.ttl == 1", "icmp.type == 11 && udp.dstport > 33000",
                     "icmp.type == 3", "icmp.seq == 1"],
    "lan-ping": ["arp.opcode == 2", "icmp.type == 0", "eth.dst == ff:ff:ff:ff:ff:ff"],
    "switch-loop": ["frame.len < 64"],
    "http-caching": ["http.response.code == 304", 'http.request.line contains "If-None-Match"',
                     "http.last_modified", 'http.cache_control contains "max-age"',
                     "http.content_length > 1000"],
    "http-cookies": ["http.set_cookie", "http.cookie", 'http.request.method == "POST"'],
    "http-1.0-vs-1.1": ['http.request.version == "HTTP/1.0"', 'http.connection == "close"',
                        'http.request.uri contains "png"', "tcp.flags.fin == 1"],
    "http-redirects": ["http.location", "http.response.code in {301, 302, 303}"],
    "http-pipelining": ["http.request", "tcp.len > 1000"],
    "websocket-vs-polling": ['http.response.line contains "Upgrade"'],
    "ftp-active": ['ftp.request.command == "PORT"', "tcp.srcport == 20", "ftp-data",
                   "ftp.response.code == 226", "ftp.response.code == 150"],
    "ftp-passive": ['ftp.request.command == "PASV"', "ftp.response.code == 227",
                    'ftp.response.arg contains "Entering"', "ftp-data", "ftp.request.arg"],
    "mail-relay": ['smtp.req.command == "MAIL"', 'smtp.req.command == "DATA"',
                   "smtp.response.code == 354", 'pop.request.command == "RETR"',
                   'imap.request.command == "FETCH"', "dns.mx.mail_exchange"],
    "mail-tls": ['smtp.req.command == "STAR"', "tls && tcp.port == 25",
                 'pop.request.command == "STLS"', 'imap.request.command == "STARTTLS"'],
    "asyncio-smtp": ["smtp.response.code == 354", "tcp.len > 1000",
                     "tcp.analysis.fast_retransmission", "tcp.analysis.out_of_order",
                     "tcp.analysis.duplicate_ack"],
    "https": ["tls", "tls && tcp.len > 1000"],
    "dns-poisoning": ["dns.count.answers > 0", "dns.flags.authoritative == 0",
                      'http.request.method == "GET"'],
    "routing-loop": ["icmp.type == 11", "ip.ttl == 1", "icmp.type == 8"],
    "tcp-slow-reader": ["tcp.analysis.zero_window", "tcp.analysis.window_update",
                        "tcp.analysis.window_full", "tcp.analysis.keep_alive",
                        "tcp.analysis.flags && !tcp.analysis.duplicate_ack"],
    "tcp-refused": ["tcp.flags.reset == 1", "tcp.flags.syn == 1 && tcp.flags.ack == 0"],
    "tcp-lossy": ["tcp.seq > 100000", "tcp.ack > 100000", "tcp.len > 1000",
                  "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
                  "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order",
                  "tcp.analysis.duplicate_ack", "tcp.analysis.retransmission && tcp.len > 1000",
                  "tcp.analysis.retransmission && !tcp.analysis.fast_retransmission",
                  "tcp.analysis.lost_segment", "tcp.analysis.flags"],
}


# -- the two readings ----------------------------------------------------------------------

def pcap_frames(path: Path) -> list[tuple[float, bytes]]:
    """A classic pcap's frames (nanosecond stamps, as netsim writes them), in order."""
    data = path.read_bytes()
    at, frames = 24, []
    while at < len(data):
        seconds, nanos, length, _original = struct.unpack_from("<IIII", data, at)
        frames.append((seconds + nanos / 1e9, data[at + 16:at + 16 + length]))
        at += 16 + length
    return frames


def netsim_selections(path: Path, filters: list[str]) -> list[set[int]]:
    reader = CaptureFields()
    frames = [reader.fields(data, t) for t, data in pcap_frames(path)]
    tests = [parse(text) for text in filters]
    return [{n for n, fields in enumerate(frames, 1) if test(fields)} for test in tests]


_LISTENERS = """local filters = {{ {filters} }}
for i, text in ipairs(filters) do
  local hits = {{}}
  local listener = Listener.new(nil, text)
  function listener.packet(pinfo) hits[#hits + 1] = pinfo.number end
  function listener.draw() io.write("filter ", i, ":", table.concat(hits, " "), "\\n") end
end
"""


def tshark_selections(path: Path, filters: list[str], scratch: Path) -> list[set[int]]:
    """The frames each filter passes, from one tshark run over the capture (a Lua
    listener a filter: tshark calls it for each frame the filter passes)."""
    script = scratch / f"{path.stem}.lua"
    script.write_text(_LISTENERS.format(filters=", ".join(f"[==[{f}]==]" for f in filters)))
    out = subprocess.run([require_tshark(), "-n", "-q", "-r", str(path),
                          "-X", f"lua_script:{script}"],
                         capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    found = {}
    for line in out.stdout.splitlines():
        if line.startswith("filter "):
            number, _, frames = line[7:].partition(":")
            found[int(number) - 1] = {int(n) for n in frames.split()}
    if len(found) != len(filters):
        # A tshark built without Lua, or a filter it refuses (then no listener runs).
        # One -Y run a filter instead would take an hour: say so instead.
        pytest.fail(f"tshark's listeners answered {len(found)} of {len(filters)} filters "
                    f"over {path.name}: {out.stderr.strip()[-600:]}")
    return [found[i] for i in range(len(filters))]


def dash_y(path: Path, text: str) -> set[int]:
    out = subprocess.run([require_tshark(), "-n", "-r", str(path), "-Y", text, "-T", "fields",
                          "-e", "frame.number"], capture_output=True, text=True, check=True,
                         env={**os.environ, "LC_ALL": "C"})
    return {int(n) for n in out.stdout.split()}


def captures(name: str, folder: Path) -> list[Path]:
    result = run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"))
    paths = write_link_pcaps(result.trace, folder, list(result.network.links))
    return [p for p in paths if p.stat().st_size > 24]       # a silent link has no frames


def summaries(path: Path, numbers: set[int]) -> list[str]:
    """tshark's one-line summary of the given frames, to show a disagreement."""
    wanted = " || ".join(f"frame.number == {n}" for n in sorted(numbers)[:4])
    out = subprocess.run([require_tshark(), "-n", "-r", str(path), "-Y", wanted], text=True,
                         capture_output=True, env={**os.environ, "LC_ALL": "C"}).stdout
    return [line.strip()[:160] for line in out.splitlines()]


# -- the tests -----------------------------------------------------------------------------

def test_every_filter_parses_in_netsim_and_names_known_fields():
    for text in FILTERS + [f for fs in SCENARIO_FILTERS.values() for f in fs]:
        parse(text)
    assert set(f for fs in SCENARIO_FILTERS.values() for f in fs) <= set(FILTERS)


@pytest.mark.parametrize("name", sorted(SCENARIO_FILTERS))
def test_netsim_and_tshark_select_the_same_frames(name, tmp_path):
    require_tshark()
    paths = captures(name, tmp_path)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        runs = pool.map(lambda path: tshark_selections(path, FILTERS, tmp_path), paths)
        theirs = dict(zip(paths, runs))
    wrong, selected = [], set()
    for path in paths:
        for text, ours, tshark in zip(FILTERS, netsim_selections(path, FILTERS), theirs[path]):
            if ours or tshark:
                selected.add(text)
            if ours != tshark:
                wrong.append(f"{path.name}: {text!r}\n"
                             f"    only netsim: {sorted(ours - tshark)[:12]}\n"
                             f"    only tshark: {sorted(tshark - ours)[:12]}\n      "
                             + "\n      ".join(summaries(path, ours ^ tshark)))
    pairs = len(paths) * len(FILTERS)
    assert not wrong, f"{len(wrong)} of {pairs} disagree:\n" + "\n".join(wrong[:12])
    idle = [text for text in SCENARIO_FILTERS[name] if text not in selected]
    assert not idle, f"these filters selected nothing here: {idle}"


def test_the_listeners_select_what_dash_Y_selects(tmp_path):
    require_tshark()
    [path] = [p for p in captures("ftp-active", tmp_path) if p.name == "alice-r1.pcap"]
    filters = ['ftp.request.command == "PORT"', "ftp-data", "tcp.seq == 1 && tcp.len > 0",
               "tcp.port in {20..21}", "not tcp"]
    assert tshark_selections(path, filters, tmp_path) == [dash_y(path, f) for f in filters]
