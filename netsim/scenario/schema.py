"""The scenario format as JSON Schema (draft 2020-12), for validation and for editors.

``netsim schema`` prints it; point an editor's YAML language server at the file to
get completion. Units are strings as people write them, checked by pattern here and
parsed by :mod:`netsim.units`.
"""

from __future__ import annotations

from netsim.check.expect import SCHEMA as EXPECTATION
from netsim.units import RATE_PATTERN, SIZE_PATTERN, TIME_PATTERN

NODE_KINDS = ["host", "router", "switch"]
DEFAULT_FRAME_BUDGET = 5_000_000
OUTPUTS = ["pcap", "jsonl", "summary", "sequence", "timeline", "topology"]
LINK_KEYS = ["rate", "delay", "jitter", "loss", "queue", "queue_bytes", "mtu"]

_IPV4 = r"^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$"
_CIDR = _IPV4[:-1] + r"/([0-9]|[12][0-9]|3[0-2])$"
_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
# RFC 1035 §2.3.1 labels (and '_' for service names); a name to look up may also be the root.
_DNS_HOST = (r"(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
             r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?")
_DNS_NAME = rf"^(\.|{_DNS_HOST})$"
# scheme://host[:port][/path]: a host a scenario can name (a node, a domain, an address).
_URL = r"^{scheme}://[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?(:[0-9]{{1,5}})?(/[!-~]*)?$"
#: A scenario's name is a folder name: no separators, no "..", not hidden.
SCENARIO_NAME = r"^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"

DEFS = {
    "interval": {"anyOf": [{"type": "string", "pattern": TIME_PATTERN},
                           {"type": "number", "exclusiveMinimum": 0}],
                 "description": "a duration longer than zero: '1s', '500ms'"},
    "rate": {"anyOf": [{"type": "string", "pattern": RATE_PATTERN}, {"type": "number", "exclusiveMinimum": 0}],
             "description": "bits per second: '100Mbps', '1Gbps', '56kbps'"},
    "time": {"anyOf": [{"type": "string", "pattern": TIME_PATTERN}, {"type": "number", "minimum": 0}],
             "description": "a duration: '2ms', '1.5s', '30us' (a bare number is seconds)"},
    "size": {"anyOf": [{"type": "string", "pattern": SIZE_PATTERN}, {"type": "integer", "minimum": 0}],
             "description": "bytes: '64KiB', '1500B', '2MB'"},
    "fraction": {"anyOf": [{"type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+\s*%$"},
                           {"type": "number", "minimum": 0, "maximum": 1}],
                 "description": "a probability: '1%' or 0.01"},
    "ipv4": {"type": "string", "pattern": _IPV4, "description": "an IPv4 address: '10.0.1.1'"},
    "cidr": {"type": "string", "pattern": _CIDR, "description": "address/prefix: '10.0.1.10/24'"},
    # What an HTTP (or WebSocket) message carries as written: h11 and wsproto write
    # ASCII and refuse spaces and line breaks where RFC 9110 forbids them, so a value
    # that could not go on the wire is refused here, with its line, not mid-run.
    "http_url": {"type": "string", "pattern": _URL.format(scheme="https?"),
                 "description": "an http:// or https:// URL such as 'http://web/index.html' (ASCII, no spaces)"},
    "ws_url": {"type": "string", "pattern": _URL.format(scheme="wss?"),
               "description": "a ws:// or wss:// URL such as 'ws://quotes/ticker' (ASCII, no spaces)"},
    "url_path": {"type": "string", "pattern": r"^/[!-~]*$",
                 "description": "a path such as '/index.html' (ASCII, no spaces)"},
    # No '[' or ']': RFC 3986 §3.2.2 has them only around an IPv6 literal host, which
    # netsim does not model ('http://[bad/' is no URL a browser can follow).
    "url_ref": {"type": "string", "pattern": r"^[!-Z\\^-~]+$",
                "description": "a URL or a path such as '/new' (ASCII, no spaces or brackets)"},
    "header_value": {"type": "string", "pattern": r"^[!-~]([ -~]*[!-~])?$",
                     "description": "a header value (printable ASCII on one line, no space at either end)"},
    "token": {"type": "string", "pattern": r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
              "description": "an HTTP token such as 'GET' or 'X-Trace'"},
    "email": {"type": "string", "pattern": r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + _DNS_HOST + "$",
              "description": "a mail address such as 'alice@qq.com'"},
    "line": {"type": "string", "pattern": r"^[^\r\n]*$", "description": "one line of text"},
    "ascii_word": {"type": "string", "pattern": r"^[!-~]+$",
                   "description": "printable ASCII without spaces, such as 'bob'"},
    "ascii_line": {"type": "string", "pattern": r"^[ -~]*$",
                   "description": "printable ASCII on one line"},
    "xml_name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.-]*$",
                 "description": "an XML element name such as 'GetWeather'"},
    "dns_name": {"type": "string", "pattern": _DNS_NAME,
                 "description": "a domain name such as 'www.example.com'"},
    # A REST resource: an object whose lists are sub-collections of resources, to any depth
    # (/users/6/cars/88) — the API walks them, so a list of anything else is an error here.
    "rest_item": {"type": "object",
                  "additionalProperties": {"if": {"type": "array"},
                                           "then": {"items": {"$ref": "#/$defs/rest_item"}}},
                  "description": "a resource: fields, and lists of resources under it"},
    "link": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rate": {"$ref": "#/$defs/rate"},
            "delay": {"$ref": "#/$defs/time", "description": "propagation delay"},
            "jitter": {"$ref": "#/$defs/time", "description": "extra delay, uniform in [0, jitter]"},
            "loss": {"$ref": "#/$defs/fraction", "description": "Bernoulli loss per frame"},
            "queue": {"anyOf": [{"type": "integer", "minimum": 1},
                                {"type": "string", "pattern": SIZE_PATTERN}],
                      "description": "drop-tail queue limit: frames waiting behind the one on "
                                     "the wire (100), or their bytes ('64KiB'); at least 1 "
                                     "(a byte limit below a frame's size lets none wait)"},
            "mtu": {"type": "integer", "minimum": 68, "maximum": 9000},
        },
    },
    "fw_rule": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "action": {"enum": ["allow", "deny"], "description": "in a 'rules' list"},
            "proto": {"enum": ["tcp", "udp", "icmp", "any"]},
            "src": {"$ref": "#/$defs/cidr"},
            "dst": {"$ref": "#/$defs/cidr"},
            "port": {"type": "integer", "minimum": 0, "maximum": 65535,
                     "description": "destination port"},
            "sport": {"type": "integer", "minimum": 0, "maximum": 65535,
                      "description": "source port"}},
        "description": "what a packet must match: {proto: tcp, port: 22, src: 10.9.0.0/16}"},
    "route": {
        "type": "object",
        "additionalProperties": False,
        "required": ["to"],
        "properties": {
            "to": {"anyOf": [{"$ref": "#/$defs/cidr"}, {"const": "default"}],
                   "description": "destination prefix, or 'default'"},
            "via": {"$ref": "#/$defs/ipv4", "description": "next-hop router address"},
            "dev": {"type": "string", "description": "outgoing interface, for a connected route"},
        },
    },
}

NODE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        "kind": {"enum": NODE_KINDS},
        "ip": {"anyOf": [{"$ref": "#/$defs/cidr"}, {"const": "dhcp"}],
               "description": "a host's address on its first interface, or 'dhcp' to ask a "
                              "DHCP server for it (and for its gateway and name servers)"},
        "dns": {"anyOf": [{"$ref": "#/$defs/ipv4"},
                          {"type": "array", "minItems": 1, "maxItems": 3,
                           "items": {"$ref": "#/$defs/ipv4"}}],
                "description": "the name servers its stub resolver asks (resolv.conf)"},
        "firewall": {"type": "object", "propertyNames": {"pattern": _NAME},
                     "additionalProperties": {"anyOf": [
                         {"const": "stateful"},
                         {"type": "object", "additionalProperties": False, "properties": {
                             "stateful": {"type": "boolean"},
                             "allow": {"type": "array", "items": {"$ref": "#/$defs/fw_rule"}},
                             "deny": {"type": "array", "items": {"$ref": "#/$defs/fw_rule"}},
                             "rules": {"type": "array", "items": {"$ref": "#/$defs/fw_rule"}}}}]},
                     "description": "a router's packet filter, per interface: 'stateful' (it "
                                    "faces outside: only replies and what went out come in), "
                                    "and/or allow/deny rules for packets arriving on it, first "
                                    "match wins"},
        "dhcp_relay": {"$ref": "#/$defs/ipv4",
                       "description": "a router relays DHCP broadcasts to this server (RFC 1542)"},
        "gateway": {"$ref": "#/$defs/ipv4", "description": "a host's default gateway"},
        "interfaces": {"type": "object", "propertyNames": {"pattern": _NAME},
                       "additionalProperties": {"anyOf": [{"$ref": "#/$defs/cidr"}, {"type": "null"}]},
                       "description": "interface name → address (routers; hosts with several)"},
        "routes": {"type": "array", "items": {"$ref": "#/$defs/route"}},
        "boot": {"enum": ["rarp"], "description": "a diskless host that learns its address by RARP"},
        "prefix": {"type": "integer", "minimum": 0, "maximum": 32,
                   "description": "prefix length a RARP-booted host uses (default 24)"},
        "announce": {"type": "boolean",
                     "description": "announce each address the node configures (at start, "
                                    "by DHCP or RARP) by gratuitous ARP (RFC 5227: twice, "
                                    "2 s apart on the Linux stack, once on the textbook's); "
                                    "default: no on the Linux stack (arp_notify=0, and "
                                    "dhclient sends none), on the textbook's only for an "
                                    "address learned by DHCP or RARP"},
        "aging": {"$ref": "#/$defs/time", "description": "a switch's MAC table aging time"},
        "stp": {"anyOf": [{"type": "boolean"}, {
            "type": "object", "additionalProperties": False,
            "properties": {
                "priority": {"type": "integer", "minimum": 0, "maximum": 65535,
                             "description": "bridge priority; the lowest (priority, MAC) is root"},
                "hello": {"$ref": "#/$defs/interval", "description": "BPDU interval (2s)"},
                "max_age": {"$ref": "#/$defs/interval", "description": "how long heard BPDUs count (20s)"},
                "forward_delay": {"$ref": "#/$defs/interval",
                                  "description": "time in listening, then in learning (15s)"}}}],
                "description": "802.1D spanning tree (default on); false floods everything"},
        "arp_lifetime": {"$ref": "#/$defs/time", "description": "how long ARP entries stay fresh"},
        "stack": {"enum": ["linux", "textbook"],
                  "description": "TCP as Linux 6.x does it (SACK, timestamps, CUBIC, IW10, "
                                 "delayed ACKs) or as the textbook draws it (NewReno, an ACK "
                                 "per segment)"},
    },
}


def scenario_schema() -> dict:
    from netsim.apps import APPS

    apps = sorted(APPS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://netsim.invalid/scenario.schema.json",
        "title": "netsim scenario",
        "type": "object",
        "additionalProperties": False,
        # Keys starting with "x-" are the author's (YAML anchors for link profiles, notes),
        # as in Compose files; netsim ignores them.
        "patternProperties": {"^x-": {}},
        "required": ["name", "nodes"],
        "properties": {
            "name": {"type": "string", "pattern": SCENARIO_NAME,
                     "description": "also the output folder's name (out/NAME): letters, digits, "
                                    "'_', '.', '-', no '..'"},
            "description": {"type": "string"},
            "seed": {"type": "integer", "minimum": 0, "default": 0},
            "until": {"$ref": "#/$defs/interval", "default": "60s"},
            "frame_budget": {"type": "integer", "minimum": 100, "default": DEFAULT_FRAME_BUDGET,
                             "description": "stop the run (and say so) after this many frame "
                                            "transmissions: a storm ends with a message, not "
                                            "out of memory"},
            "address_pool": {"$ref": "#/$defs/cidr", "default": "10.255.0.0/16",
                             "description": "where router-to-router /30s come from"},
            "defaults": {"type": "object", "additionalProperties": False,
                         "properties": {"link": {"$ref": "#/$defs/link"},
                                        "stack": {"enum": ["linux", "textbook"],
                                                  "description": "every host's and router's stack"}}},
            "nodes": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": _NAME},
                      "additionalProperties": {"$ref": "#/$defs/node"}},
            "links": {"type": "array", "items": {"$ref": "#/$defs/link_entry"}},
            "apps": {"type": "array", "items": {"$ref": "#/$defs/app"}},
            "dns": {"type": "object", "additionalProperties": False, "required": ["root"],
                    "description": "which node serves which zone; netsim writes the SOA, NS "
                                   "and glue records and the delegations, and gives resolvers "
                                   "the root (see README: names, addresses and mail)",
                    "properties": {
                        "root": {"type": "string", "description": "the node serving '.'"},
                        "zones": {"type": "object", "additionalProperties": {"type": "string"},
                                  "description": "zone → node: {com: tld, 163.com: ns163}"}}},
            "outputs": {"type": "array", "items": {"enum": OUTPUTS}, "uniqueItems": True,
                        "default": OUTPUTS,
                        "description": "what to write (default: all of them). sequence: "
                                       "sequence.{svg,png,mmd,puml}; timeline: timeline.png (and "
                                       "cwnd.png where TCP ran); topology: topology.png"},
            "sweep": {
                "type": "object", "additionalProperties": False,
                "description": "what `netsim sweep` varies when not told on the command line",
                "properties": {
                    "vary": {"type": "object", "minProperties": 1,
                             "additionalProperties": {"type": "array", "minItems": 1},
                             "description": "key path → values: {links[1].loss: [1%, 2%]}"},
                    "seeds": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1,
                              "description": "runs per combination, seeds from the scenario's"},
                    "outputs": {"type": "array", "items": {"enum": OUTPUTS}, "uniqueItems": True,
                                "description": "what each run writes (default: the scenario's "
                                               "outputs)"},
                    "plot": {"type": "array", "items": {"type": "string", "pattern": "^[^~]+~[^~]+$"},
                             "description": "'metric~parameter' plots, e.g. 'goodput~loss'"},
                    "compare": {"type": "array",
                                "items": {"type": "string", "pattern": "^[^~]*\\*[^~]*~[^~]+$"},
                                "description": "'APP@*.METRIC~PARAMETER': one metric of every "
                                               "such app (one row per node) against a varied "
                                               "key, as a table of medians and ranges and a "
                                               "plot, e.g. 'browser@*.load_time_s~links[7].loss'"},
                    "always": {"type": "boolean", "default": False,
                               "description": "`netsim run` runs the sweep (a lesson that is a "
                                              "comparison); `netsim run --seed N` still runs one"},
                    "reference": {
                        "type": "object", "additionalProperties": False,
                        "required": ["model", "mss", "rtt"],
                        "description": "a model curve drawn over the plots",
                        "properties": {
                            "model": {"enum": ["mathis"],
                                      "description": "Mathis et al.: MSS/RTT·√(3/2)/√p"},
                            "mss": {"type": "integer", "minimum": 1},
                            "rtt": {"$ref": "#/$defs/interval"}}}}},
            "expect": {
                "type": "array", "items": EXPECTATION,
                "description": "what the run must show (netsim check): counts of frames "
                               "matching a display filter, values of summary.json, an order"},
            "sequence": {
                "type": "object", "additionalProperties": False,
                "description": "what the sequence diagram shows",
                "properties": {
                    "level": {"enum": ["end-to-end", "link", "app"],
                              "description": "app: only the application messages"},
                    "filter": {"type": "string",
                               "description": "e.g. 'tcp,node=server' (see netsim diagram --help)"},
                    "from": {"$ref": "#/$defs/time"},
                    "to": {"$ref": "#/$defs/time"},
                    "limit": {"type": "integer", "minimum": 1, "default": 60},
                    "scale": {"enum": ["compressed", "time"]},
                    "ports": {"type": "boolean",
                              "description": "one lane per host:port (several apps on a host)"},
                    "headers": {"type": "array",
                                "items": {"type": "string", "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"},
                                "description": "HTTP headers shown beside each start line at the "
                                               "app level, besides Set-Cookie, Cookie, Location, "
                                               "If-None-Match, If-Modified-Since and SOAPAction"},
                },
            },
        },
        "$defs": {
            **DEFS,
            "node": NODE,
            "link_entry": {
                "type": "object",
                "additionalProperties": False,
                "required": ["endpoints"],
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "endpoints": {"type": "array", "minItems": 2, "maxItems": 2,
                                  "items": {"type": "string", "pattern": r"^[^:\s]+(:[^:\s]+)?$"},
                                  "description": "two 'node:interface' (or 'node') ends"},
                    **DEFS["link"]["properties"],
                },
            },
            "app": {
                "type": "object",
                "required": ["node", "run"],
                "properties": {
                    "node": {"type": "string"},
                    "run": {"enum": apps},
                    "at": {"$ref": "#/$defs/time", "default": "0s"},
                },
                "allOf": [{"if": {"properties": {"run": {"const": name}}, "required": ["run"]},
                           "then": {"properties": {"node": True, "run": True, "at": True,
                                                   **APPS[name].SCHEMA},
                                    "required": APPS[name].REQUIRED,
                                    "additionalProperties": False}} for name in apps],
            },
        },
    }
