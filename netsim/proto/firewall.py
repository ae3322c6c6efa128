"""A router's packet filter with connection tracking, sans-I/O (what Linux's netfilter
does in the FORWARD chain with ``-m conntrack --ctstate ESTABLISHED,RELATED``).

Each filtered interface has an ordered rule list, checked for packets that *arrive* on
it, first match wins: ``{action: allow|deny, proto, src, dst, port, sport}``. An
interface marked *stateful* faces the outside: what leaves through it starts tracked
connections, and what arrives on it passes only as part of one — a reply, or an ICMP
error about one (RELATED) — unless a rule lets it in. So a server's SYN from port 20
back to an FTP client behind it (active mode) is dropped, and the client's own
connection to a port the server announced (passive mode) is let out and its replies in.

Tracking: TCP by its handshake (a SYN going out opens an entry; its SYN-ACK coming in
establishes it; FIN or RST winds it down), UDP by its flow, ICMP echo by identifier;
each with a timeout as in ``nf_conntrack`` (TCP 120 s unanswered, 5 days established,
10 s after a RST; UDP 30 s, 180 s once answered; ICMP 30 s).

Input: :meth:`Firewall.check` with the packet's interfaces and fields. Output: None
(let it pass) or the reason it is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TCP, UDP, ICMP = 6, 17, 1
PROTOCOLS = {"tcp": TCP, "udp": UDP, "icmp": ICMP}
SYN, ACK, FIN, RST = 0x02, 0x10, 0x01, 0x04
TIMEOUTS = {"syn": 120.0, "established": 432000.0, "closing": 120.0, "reset": 10.0,
            "udp": 30.0, "udp-answered": 180.0, "icmp": 30.0}


@dataclass(frozen=True)
class Rule:
    action: str                          # "allow" or "deny"
    proto: int | None = None
    src: tuple[int, int] | None = None   # (network, mask)
    dst: tuple[int, int] | None = None
    port: int | None = None              # destination port
    sport: int | None = None
    text: str = ""

    def matches(self, proto, src, sport, dst, dport) -> bool:
        return ((self.proto is None or self.proto == proto)
                and (self.src is None or src & self.src[1] == self.src[0])
                and (self.dst is None or dst & self.dst[1] == self.dst[0])
                and (self.port is None or self.port == dport)
                and (self.sport is None or self.sport == sport))


@dataclass
class InterfacePolicy:
    stateful: bool = False
    rules: list[Rule] = field(default_factory=list)


@dataclass
class _Entry:
    state: str
    expires: float


class Firewall:
    def __init__(self, policies: dict[str, InterfacePolicy]) -> None:
        self.policies = policies
        self._table: dict[tuple, _Entry] = {}
        self.dropped = 0
        self.tracked = 0

    def check(self, in_iface: str, out_iface: str, proto: int, src: int, sport: int, dst: int,
              dport: int, flags: int, now: float, quoted: tuple | None = None) -> str | None:
        """None to forward the packet, else why not. ``sport``/``dport`` are the ICMP echo
        identifier for echo messages; ``quoted`` is an ICMP error's quoted (proto, src,
        sport, dst, dport)."""
        policy = self.policies.get(in_iface)
        if policy is not None:
            for rule in policy.rules:
                if rule.matches(proto, src, sport, dst, dport):
                    if rule.action == "deny":
                        self.dropped += 1
                        return f"rule on {in_iface}: {rule.text}"
                    self._track(proto, src, sport, dst, dport, flags, now, reply=False)
                    return None
            if policy.stateful:
                key = (proto, dst, dport, src, sport)        # the original direction
                entry = self._alive(key, now)
                if entry is None and quoted is not None:
                    entry = self._alive(quoted, now)          # RELATED: an error about it
                if entry is None:
                    self.dropped += 1
                    what = "connection" if proto == TCP and flags & SYN and not flags & ACK \
                        else "packet"
                    return f"stateful on {in_iface}: a new {what} from outside"
                self._update(key, entry, proto, flags, now, reply=True)
                return None
        out_policy = self.policies.get(out_iface)
        if out_policy is not None and out_policy.stateful:
            self._track(proto, src, sport, dst, dport, flags, now, reply=False)
        return None

    # -- the table ---------------------------------------------------------------------------

    def _alive(self, key: tuple, now: float) -> _Entry | None:
        entry = self._table.get(key)
        if entry is not None and entry.expires < now:
            del self._table[key]
            return None
        return entry

    def _track(self, proto, src, sport, dst, dport, flags, now, *, reply: bool) -> None:
        key = (proto, src, sport, dst, dport)
        entry = self._alive(key, now)
        if entry is None:
            if proto == TCP and not flags & SYN:
                return                           # mid-stream: nothing to start tracking
            state = "syn" if proto == TCP else ("udp" if proto == UDP else "icmp")
            entry = self._table[key] = _Entry(state, now + TIMEOUTS[state])
            self.tracked += 1
        self._update(key, entry, proto, flags, now, reply=reply)

    def _update(self, key, entry: _Entry, proto, flags, now, *, reply: bool) -> None:
        if proto == TCP:
            if flags & RST:
                entry.state = "reset"
            elif flags & FIN:
                entry.state = "closing"
            elif reply and flags & SYN and flags & ACK and entry.state == "syn":
                entry.state = "established"
        elif proto == UDP and reply:
            entry.state = "udp-answered"
        entry.expires = now + TIMEOUTS[entry.state]

    def entries(self, now: float) -> list[dict]:
        return [{"proto": {TCP: "tcp", UDP: "udp", ICMP: "icmp"}.get(k[0], k[0]), "state": e.state,
                 "flow": k[1:]} for k, e in self._table.items() if e.expires >= now]


def parse_policy(spec, parse_cidr) -> InterfacePolicy:
    """A scenario's ``firewall: {eth1: stateful}`` value, or ``{stateful: true, allow:
    [...], deny: [...]}`` (rules in the order the lists are written), or ``rules: [...]``."""
    if spec == "stateful":
        return InterfacePolicy(stateful=True)
    policy = InterfacePolicy(stateful=bool(spec.get("stateful", False)))
    for key, items in spec.items():
        if key == "stateful":
            continue
        for item in items:
            action = item.get("action", key) if key == "rules" else key
            policy.rules.append(_rule(action, item, parse_cidr))
    return policy


def _rule(action: str, item: dict, parse_cidr) -> Rule:
    proto = item.get("proto", "any")
    text = " ".join(f"{k}={v}" for k, v in item.items() if k != "action")
    return Rule(action, None if proto == "any" else PROTOCOLS[proto],
                parse_cidr(item["src"]) if "src" in item else None,
                parse_cidr(item["dst"]) if "dst" in item else None,
                item.get("port"), item.get("sport"), f"{action} {text}".strip())
