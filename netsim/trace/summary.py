"""Counts a person asks for first: frames per link, drops by reason."""

from __future__ import annotations

from collections import Counter

# The record kinds, not the recorder: Trace._repr_html_ calls frame_counts.
from netsim.trace.layout import DROP, ENQUEUE, RX, TX


def frame_counts(trace) -> dict:
    """Frames sent, received and dropped, drops by reason, and per link; ``trace`` is a
    :class:`~netsim.trace.Trace` (or a streaming one, which counted as it wrote)."""
    if getattr(trace, "streaming", False):
        return trace.counts.summary(trace.frame_count)      # counted as it was written
    kinds: Counter = Counter()
    drops: Counter = Counter()
    per_link: dict[str, Counter] = {}
    ports = trace.ports
    for _t, kind, port, frame, reason in trace.raw():
        kinds[kind] += 1
        link = ports[port].link
        if kind == DROP:
            drops[trace.reason_name(reason)] += 1
        if link and kind in (TX, DROP, ENQUEUE):
            c = per_link.setdefault(link, Counter())
            if kind == TX:
                c["frames"] += 1
                c["bytes"] += len(trace.frame_bytes(frame))
            elif kind == ENQUEUE:
                c["queued"] += 1
            elif trace.reason_name(reason) in ("loss", "queue-full"):
                c[trace.reason_name(reason)] += 1
    links = {name: {"frames": c["frames"], "bytes": c["bytes"], "queued": c["queued"],
                    "lost": c["loss"], "queue_full": c["queue-full"]}
             for name, c in sorted(per_link.items())}
    return {
        # sent: every frame put on a link, the ones the link lost on the way included
        # (transmitted counts those that crossed it).
        "frames": {"sent": kinds[TX] + drops["loss"], "transmitted": kinds[TX],
                   "received": kinds[RX], "dropped": kinds[DROP], "distinct": trace.frame_count},
        "drops": dict(sorted(drops.items())),
        "links": links,
    }


def app_names(apps) -> list[str]:
    """The name each application's figures go by, for ``(app, node)`` pairs in the
    summary's order: ``ping@alice``, the second ping on that host ``ping@alice#2`` —
    what sweeps' columns and expectations' paths say."""
    names, seen = [], {}
    for app, node in apps:
        name = f"{app}@{node}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return names
