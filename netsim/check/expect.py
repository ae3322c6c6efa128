"""Expectations over a run — what a teacher checks a student's scenario against.

A scenario's ``expect:`` (or a teacher's own file of them, ``netsim check --expect``)
is a list; each item has a ``message`` shown when it fails and one of:

``count``
    frames matching a display filter (:mod:`netsim.check.display_filter`): on one
    ``link`` (its capture), sent by one ``node`` (lost on the wire or not), or — neither
    given — each packet once, where it was first sent (a router's forwarded copy is the
    same packet); ``dropped: firewall`` (any reason of :data:`DROP_REASONS`, or ``true``)
    counts the frames dropped instead. With ``equals``, ``at_least``, ``at_most`` or
    ``none: true``.
``value``
    a value of ``summary.json`` by the dotted names sweeps use
    (``browser@alice.visits[0].load_time_s``, ``ftp-server@files.files["/notes.txt"].size``),
    or of the scenario as written under ``config`` (``config.nodes.fw.firewall.eth1``: a
    lab can insist the firewall stays), or of a node's state at the end under ``nodes``
    (``nodes.alice.arp["10.0.1.1"].mac``, ``nodes.r1.routes["10.0.2.0/24"]``), compared
    by ``equals``, ``below``, ``above``, ``at_least``, ``at_most``, ``contains``,
    ``length`` (of a list or mapping) or ``exists``.
``order``
    display filters each matched by a packet after the one the filter before it matched,
    optionally ``within`` a time from the first to the last.

Everything that can be checked before a run is (:func:`check_expectations`): the form,
filters (fields netsim decodes, values of their type), drop reasons and times; then,
against a scenario, that links and nodes exist and a path names an application it runs
(:func:`unknown_names`). Each failure is located at its key path and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from netsim.check.display_filter import FilterError, parse
from netsim.trace.summary import app_names
from netsim.units import parse_time

_NUMBER = {"type": "number"}
_COUNT_CMP = ("equals", "at_least", "at_most", "none")
_VALUE_CMP = ("equals", "below", "above", "at_least", "at_most", "contains", "length", "exists")

#: The JSON schema of one expectation (the scenario schema's ``expect`` items).
SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["message"],
    "description": "one thing the run must show, and the message said when it does not",
    "properties": {
        "message": {"type": "string", "minLength": 1},
        "count": {
            "type": "object", "additionalProperties": False, "required": ["filter"],
            "description": "frames matching a display filter (tshark's field names)",
            "properties": {
                "filter": {"type": "string"},
                "link": {"type": "string", "description": "on this link's capture"},
                "node": {"type": "string", "description": "sent (or dropped) by this node"},
                "dropped": {"type": ["string", "boolean"],
                            "description": "count drops (of this reason) instead"},
                "equals": {"type": "integer", "minimum": 0},
                "at_least": {"type": "integer", "minimum": 0},
                "at_most": {"type": "integer", "minimum": 0},
                "none": {"const": True}}},
        "value": {
            "type": "object", "additionalProperties": False, "required": ["path"],
            "description": "a value of summary.json by its dotted name",
            "properties": {
                "path": {"type": "string"},
                "equals": {}, "below": _NUMBER, "above": _NUMBER, "at_least": _NUMBER,
                "at_most": _NUMBER, "contains": {"type": ["string", "number"]},
                "length": {"type": "integer", "minimum": 0}, "exists": {"type": "boolean"}}},
        "order": {"type": "array", "minItems": 2, "items": {"type": "string"},
                  "description": "display filters whose first packets come in this order"},
        "within": {"$ref": "#/$defs/time"},
    },
}

#: Every reason netsim records a drop for ("port-blocking" and the other "port-STATE"
#: are a switch port's spanning-tree state).
DROP_REASONS = ("arp-queue-full", "arp-timeout", "broadcast-echo-ignored", "directed-broadcast",
                "filtered", "firewall", "fragment", "loss", "mac-filtered", "malformed",
                "martian", "mtu-exceeded", "no-forwarding-port", "no-link", "no-listener",
                "no-rarp-service", "no-route", "not-for-this-host", "oversize", "port-blocking",
                "port-closed", "port-learning", "port-listening",
                "port-unreachable", "protocol-unreachable", "queue-full", "rarp-bad-address",
                "stp-not-started", "ttl-expired", "unknown-ethertype", "unknown-icmp-type")

_SUMMARY_TOP = ("frames", "drops", "links", "end_time", "stopped", "seed", "until", "scenario",
                "config", "nodes")


@dataclass
class Outcome:
    message: str
    kind: str                  # "count", "value", "order"
    passed: bool
    measured: str              # what the run showed, as a sentence fragment
    wanted: str
    evidence: list[str] = field(default_factory=list)


def check_expectations(items, error, *, nodes: dict | None = None, links: list[str] | None = None,
                       apps: list[dict] | None = None) -> None:
    """Raise ``error(path, message)`` for the first expectation that cannot be checked.
    Without ``nodes`` (a teacher's file read before any scenario), only what needs no
    scenario: the kinds, filters, comparisons, times and drop reasons."""
    for i, item in enumerate(items):
        _check_form(i, item, error)
    if nodes is None:
        return
    for i, where, message in unknown_names(items, nodes=nodes, links=links or [], apps=apps or []):
        raise error(where, message)


def unknown_names(items, *, nodes: dict, links: list[str], apps: list[dict]) -> list[tuple]:
    """``(index, key path, message)`` for each expectation that names a link, node or
    application the scenario does not have: a located error in the scenario's own
    ``expect:``, a failed expectation when a teacher's file meets a student's scenario."""
    app_keys, found = app_names((a["run"], a["node"]) for a in apps), []
    for i, item in enumerate(items):
        spec = item.get("count") or item.get("value") or {}
        if "link" in spec and spec["link"] not in links:
            found.append((i, ("expect", i, "count", "link"), f"no link is named {spec['link']!r} "
                          f"(links: {', '.join(links)})"))
        elif "node" in spec and spec["node"] not in nodes:
            found.append((i, ("expect", i, "count", "node"), f"no node is named {spec['node']!r}"))
        elif "path" in spec:
            why = _path(spec["path"], app_keys, nodes)
            if why:
                found.append((i, ("expect", i, "value", "path"), why))
    return found


def _check_form(i: int, item: dict, error) -> None:
    kinds = [k for k in ("count", "value", "order") if k in item]
    if len(kinds) != 1:
        raise error(("expect", i), "an expectation has one of 'count', 'value' or 'order'"
                    + (f", not {' and '.join(kinds)}" if kinds else ""))
    kind = kinds[0]
    if "within" in item and kind != "order":
        raise error(("expect", i, "within"), "'within' belongs to an 'order'")
    if "within" in item:
        try:
            parse_time(item["within"])
        except ValueError as exc:
            raise error(("expect", i, "within"), str(exc)) from None
    if kind == "count":
        spec = item["count"]
        _filter(spec["filter"], error, ("expect", i, "count", "filter"))
        if not any(c in spec for c in _COUNT_CMP):
            raise error(("expect", i, "count"), "say what the count must be: equals, "
                                                "at_least, at_most or none: true")
        if "none" in spec and len([c for c in _COUNT_CMP if c in spec]) > 1:
            raise error(("expect", i, "count", "none"), "'none' is a count of 0; give no other")
        if "link" in spec and "node" in spec:
            raise error(("expect", i, "count"), "give 'link' or 'node', not both")
        _check_dropped(spec.get("dropped"), error, ("expect", i, "count", "dropped"))
    elif kind == "value":
        spec = item["value"]
        try:
            split_path(spec["path"])
        except ValueError as exc:
            raise error(("expect", i, "value", "path"), str(exc)) from None
        if not any(c in spec for c in _VALUE_CMP):
            raise error(("expect", i, "value"), "say what the value must be: "
                                                + ", ".join(_VALUE_CMP))
    else:
        for k, text in enumerate(item["order"]):
            _filter(text, error, ("expect", i, "order", k))


def _check_dropped(dropped, error, where: tuple) -> None:
    if dropped is None or dropped is True:
        return
    if dropped is False or dropped == "":
        raise error(where, "'dropped' is a drop reason (firewall, loss, queue-full, …) or "
                           "true for any; leave it out to count frames sent")
    if dropped not in DROP_REASONS:
        import difflib
        near = difflib.get_close_matches(dropped, DROP_REASONS, n=1)
        raise error(where, f"{dropped!r} is not a reason netsim drops a frame for"
                    + (f" (did you mean {near[0]}?)" if near else
                       f"; the reasons: {', '.join(DROP_REASONS)}"))


def _filter(text: str, error, path: tuple):
    try:
        return parse(text)
    except FilterError as exc:
        raise error(path, str(exc)) from None


_PART = re.compile(r"""\.([^.\[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]""")


def split_path(path: str) -> list:
    """``browser@alice.visits[0].load_time_s`` → ``["browser@alice", "visits", 0, "load_time_s"]``."""
    head = re.match(r"[^.\[]+", path)
    if head is None:
        raise ValueError(f"{path!r} does not start with a name")
    parts: list = [head.group(0)]
    at = head.end()
    while at < len(path):
        m = _PART.match(path, at)
        if m is None:
            raise ValueError(f"cannot read {path[at:]!r} in {path!r} (write .key, [index] "
                             "or [\"key with dots\"])")
        key, index, quoted = m.groups()
        parts.append(int(index) if index is not None else key if key is not None
                     else re.sub(r"\\(.)", r"\1", quoted))
        at = m.end()
    return parts


def _path(path: str, app_keys: list[str], nodes: dict) -> str:
    """Why ``path`` reads nothing this scenario makes, or ""."""
    parts = split_path(path)
    first = parts[0]
    if first == "nodes" and (len(parts) < 2 or parts[1] not in nodes):
        return ("a node's state at the end is nodes.NAME.arp[\"ADDRESS\"] or "
                "nodes.NAME.routes[\"PREFIX\"]"
                + (f"; no node is named {parts[1]!r}" if len(parts) > 1 else ""))
    if first in _SUMMARY_TOP or first in app_keys:
        return ""
    import difflib
    near = difflib.get_close_matches(first, app_keys + list(_SUMMARY_TOP), n=1)
    return (f"no application produces {first!r}: the scenario runs "
            f"{', '.join(app_keys) or 'no applications'}"
            + (f" (did you mean {near[0]}?)" if near else ""))


def nodes_named(items: list[dict]) -> set[str]:
    """The nodes whose end state some ``value`` path reads (``nodes.r1.routes…``)."""
    found = set()
    for item in items:
        if "value" in item:
            parts = split_path(item["value"]["path"])
            if parts[0] == "nodes" and len(parts) > 1:
                found.add(parts[1])
    return found


# -- evaluation ------------------------------------------------------------------------

def evaluate(items: list[dict], trace, summary: dict, config: dict | None = None,
             nodes: dict | None = None, unknown: dict[int, str] | None = None) -> list[Outcome]:
    """Each expectation's outcome over a finished run (``config``: the scenario's data;
    ``nodes``: the end state of the nodes :func:`nodes_named` names; ``unknown``: the
    expectations that name what the scenario lacks, failed with that reason)."""
    summary = dict(summary, config=config or {}, nodes=nodes or {})
    unknown = unknown or {}
    from netsim.check.frames import frames_of
    seen = frames_of(trace) if any("value" not in item for item in items) else []
    out = []
    for i, item in enumerate(items):
        if i in unknown:
            kind = next(k for k in ("count", "value", "order") if k in item)
            out.append(Outcome(item["message"], kind, False, unknown[i],
                               "a scenario with what the expectation names"))
        elif "count" in item:
            out.append(_count(item, seen, trace))
        elif "value" in item:
            out.append(_value(item, summary))
        else:
            out.append(_order(item, seen, trace))
    return out


def _describe(trace, s) -> str:
    d = trace.describe(s.frame)
    where = s.link or s.node
    fate = f"  ✗ {s.dropped} at {s.node}" if s.dropped else ""
    return f"{s.time:.6f} s  {where}  {d.src} → {d.dst}  {d.label}{fate}"


def _selected(spec: dict, seen: list) -> list:
    dropped = spec.get("dropped")
    if dropped:
        pool = [s for s in seen if s.dropped and (dropped is True or s.dropped == dropped)]
    else:
        pool = [s for s in seen if not s.dropped]
    if "link" in spec:
        pool = [s for s in pool if s.link == spec["link"] and (s.captured or dropped)]
    elif "node" in spec:
        pool = [s for s in pool if s.node == spec["node"]]
    elif not dropped:
        pool = [s for s in pool if s.origin]
    keep = parse(spec["filter"])
    return [s for s in pool if keep(s.fields)]


def _count(item: dict, seen: list, trace) -> Outcome:
    spec = item["count"]
    found = _selected(spec, seen)
    n = len(found)
    wants, ok = [], True
    if spec.get("none"):
        wants.append("none")
        ok = n == 0
    if "equals" in spec:
        wants.append(f"exactly {spec['equals']}")
        ok = ok and n == spec["equals"]
    if "at_least" in spec:
        wants.append(f"at least {spec['at_least']}")
        ok = ok and n >= spec["at_least"]
    if "at_most" in spec:
        wants.append(f"at most {spec['at_most']}")
        ok = ok and n <= spec["at_most"]
    where = f" on {spec['link']}" if "link" in spec else f" from {spec['node']}" \
        if "node" in spec else ""
    what = ("drop" if spec.get("dropped") else "frame")
    measured = f"{n} {what}{' matches' if n == 1 else 's match'} {spec['filter']!r}{where}"
    evidence = [_describe(trace, s) for s in found[:5]]
    if n > 5:
        evidence.append(f"… and {n - 5} more")
    return Outcome(item["message"], "count", ok, measured, " and ".join(wants), evidence)


class Absent(LookupError):
    """A path that leads nowhere in the summary; the message says where it stopped."""


def lookup(summary: dict, path: str):
    """The value at a dotted name in ``summary.json``; :class:`Absent` when there is none."""
    parts = split_path(path)
    first = parts[0]
    if first in _SUMMARY_TOP:
        if first not in summary:
            raise Absent(f"the summary has no {first!r}")
        value = summary[first]
    else:
        apps = summary.get("apps", [])
        named = dict(zip(app_names((a["app"], a["node"]) for a in apps), apps))
        value = (named[first].get("result") or {}) if first in named else None
        if value is None:
            raise Absent(f"no application {first!r} ran")
    where = first
    for part in parts[1:]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        elif isinstance(value, dict) and isinstance(part, int) and str(part) in value:
            value = value[str(part)]
        else:
            if isinstance(value, dict):
                keys = ", ".join(map(str, list(value)[:12])) + (", …" if len(value) > 12 else "")
                raise Absent(f"{where} has no {part!r}" + (f" (it has {keys})" if keys else ""))
            if isinstance(value, list):
                raise Absent(f"{where} has {len(value)} item{'s' if len(value) != 1 else ''}, "
                             f"no [{part}]" if isinstance(part, int) else f"{where} is a list")
            raise Absent(f"{where} is {_short(value)}, which has no {part!r}")
        where += f"[{part}]" if isinstance(part, int) else f".{part}" \
            if re.fullmatch(r"[^.\[\]\"]+", part) else f'["{part}"]'
    return value


def _value(item: dict, summary: dict) -> Outcome:
    spec = item["value"]
    try:
        value, present = lookup(summary, spec["path"]), True
        shown = _short(value)
    except Absent as why:
        value, present, shown = None, False, f"absent: {why}"
    wants, ok = [], True
    for cmp in _VALUE_CMP:
        if cmp not in spec:
            continue
        want = spec[cmp]
        if cmp == "exists":
            wants.append("present" if want else "absent")
            ok = ok and present == want
            continue
        if not present:
            wants.append(_wanted(cmp, want))
            ok = False
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if cmp == "equals":
            wants.append(_wanted(cmp, want))
            ok = ok and value == want
        elif cmp == "contains":
            wants.append(_wanted(cmp, want))
            ok = ok and (want in value if isinstance(value, (list, dict)) else str(want) in str(value))
        elif cmp == "length":
            wants.append(_wanted(cmp, want))
            ok = ok and isinstance(value, (list, dict, str)) and len(value) == want
            shown = f"{len(value)} long: {shown}" if isinstance(value, (list, dict, str)) else shown
        else:
            wants.append(_wanted(cmp, want))
            ok = ok and number and {"below": value < want, "above": value > want,
                                    "at_least": value >= want, "at_most": value <= want}[cmp]
    return Outcome(item["message"], "value", ok, f"{spec['path']} is {shown}",
                   " and ".join(wants))


def _wanted(cmp: str, want) -> str:
    return {"equals": f"equal to {_short(want)}", "contains": f"containing {want!r}",
            "length": f"{want} long"}.get(cmp, f"{cmp.replace('_', ' ')} {want}")


def _short(value) -> str:
    import json
    text = json.dumps(value, ensure_ascii=False, default=str)    # as summary.json says it
    return text if len(text) <= 120 else text[:117] + "…"


def _order(item: dict, seen: list, trace) -> Outcome:
    """Each filter's first packet after the one before it: "PASV, then a SYN" holds
    when some SYN follows the PASV, whatever SYNs came earlier."""
    origins = [s for s in seen if s.origin]
    found, evidence, at, broken = [], [], 0, None
    for text in item["order"]:
        keep = parse(text)
        hit = next((k for k in range(at, len(origins)) if keep(origins[k].fields)), None)
        if hit is None:
            earlier = next((s for s in origins[:at] if keep(s.fields)), None)
            broken = (f"{text!r} never came after {found[-1][0]!r}" if found and earlier else
                      f"never seen: {text!r}")
            evidence.append(f"{text}: " + (f"only before, at {_describe(trace, earlier)}"
                                           if earlier and found else "never"))
            break
        found.append((text, origins[hit]))
        evidence.append(f"{text}: {_describe(trace, origins[hit])}")
        at = hit + 1
    ok = broken is None
    span = found[-1][1].time - found[0][1].time if found else 0.0
    wanted = "in this order"
    if "within" in item:
        limit = parse_time(item["within"])
        wanted += f" within {limit:g} s"
        if ok and span > limit:
            ok, broken = False, f"in order but over {span:.6f} s"
    measured = broken or f"in order, over {span:.6f} s"
    return Outcome(item["message"], "order", ok, measured, wanted, evidence)
