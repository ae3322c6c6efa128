"""The display-filter fields netsim decodes, under Wireshark's names, with the type of
their values: what a filter is checked against before a run (:mod:`netsim.check`), and
what :mod:`netsim.wire.fields` fills. Each name is one tshark 4 knows, with the values
it shows (``tests/check/test_filters_agree_with_tshark.py`` holds them to it)."""

from __future__ import annotations

#: Every field name a filter may use, with the type of its values.
FIELDS: dict[str, type] = {
    "frame": str,              # the frame's bytes as text: frame contains "password="
    "frame.len": int,
    "eth.src": str, "eth.dst": str, "eth.addr": str, "eth.type": int,
    "arp": bool, "arp.opcode": int, "arp.src.proto_ipv4": str, "arp.dst.proto_ipv4": str,
    "arp.src.hw_mac": str, "arp.dst.hw_mac": str,
    "ip": bool, "ip.src": str, "ip.dst": str, "ip.addr": str, "ip.ttl": int, "ip.proto": int,
    "ip.id": int, "ip.len": int, "ip.flags.df": bool,
    "icmp": bool, "icmp.type": int, "icmp.code": int, "icmp.ident": int, "icmp.seq": int,
    "udp": bool, "udp.srcport": int, "udp.dstport": int, "udp.port": int, "udp.length": int,
    "tcp": bool, "tcp.srcport": int, "tcp.dstport": int, "tcp.port": int, "tcp.len": int,
    "tcp.seq": int, "tcp.ack": int, "tcp.seq_raw": int, "tcp.ack_raw": int,
    "tcp.window_size_value": int, "tcp.flags.syn": bool, "tcp.flags.ack": bool,
    "tcp.flags.fin": bool, "tcp.flags.reset": bool, "tcp.flags.push": bool,
    # Wireshark's TCP analysis (packet-tcp.c): a flag on the segments it suspects.
    "tcp.analysis.retransmission": bool,
    "tcp.analysis.fast_retransmission": bool, "tcp.analysis.spurious_retransmission": bool,
    "tcp.analysis.out_of_order": bool, "tcp.analysis.duplicate_ack": bool,
    "tcp.analysis.lost_segment": bool, "tcp.analysis.zero_window": bool,
    "tcp.analysis.window_update": bool, "tcp.analysis.window_full": bool,
    "tcp.analysis.keep_alive": bool, "tcp.analysis.flags": bool,
    "dns": bool, "dns.id": int, "dns.flags.response": bool, "dns.flags.recdesired": bool,
    "dns.flags.recavail": bool, "dns.flags.authoritative": bool, "dns.flags.rcode": int,
    "dns.qry.name": str, "dns.qry.type": int, "dns.count.answers": int,
    "dns.count.auth_rr": int, "dns.a": str, "dns.cname": str, "dns.ns": str,
    "dns.mx.mail_exchange": str,
    "dhcp": bool, "dhcp.option.dhcp": int,
    "http": bool, "http.request": bool, "http.response": bool, "http.request.method": str,
    "http.request.uri": str, "http.request.version": str, "http.response.code": int,
    "http.response.phrase": str, "http.response.version": str, "http.host": str,
    "http.location": str, "http.cookie": str, "http.set_cookie": str,
    "http.content_length": int, "http.last_modified": str,
    "http.cache_control": str, "http.connection": str, "http.user_agent": str,
    "http.server": str, "http.content_type": str,
    # Every header line, "Name: value\r\n". Wireshark names no field for If-None-Match
    # or If-Modified-Since: `http.request.line contains "If-None-Match"` finds them.
    "http.request.line": str, "http.response.line": str,
    "ftp": bool, "ftp.request": bool, "ftp.response": bool, "ftp.request.command": str,
    "ftp.request.arg": str, "ftp.response.code": int, "ftp.response.arg": str,
    "ftp-data": bool,
    "smtp": bool, "smtp.req": bool, "smtp.rsp": bool, "smtp.req.command": str,
    "smtp.req.parameter": str, "smtp.response.code": int,
    "pop": bool, "pop.request.command": str, "pop.request.parameter": str,
    "pop.response.indicator": str,
    "imap": bool, "imap.request_tag": str, "imap.request.command": str,
    "tls": bool,
}
