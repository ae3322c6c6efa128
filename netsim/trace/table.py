"""The trace as a pandas DataFrame: one row per record, with each frame decoded."""

from __future__ import annotations


def to_dataframe(trace):
    """``trace`` is a :class:`~netsim.trace.Trace` (whose ``to_dataframe`` calls this).
    Columns: time, kind, node, iface, link, frame, length, protocol, src, dst, label, reason."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_dataframe needs pandas: pip install pandas "
                          "(or pip install -e '.[notebook]')") from None
    rows = []
    for rec in trace.records():
        desc = trace.describe(rec.frame)
        rows.append((rec.time, rec.kind, rec.node, rec.iface, rec.link, rec.frame,
                     len(trace.frame_bytes(rec.frame)), desc.protocol, desc.src, desc.dst,
                     desc.label, rec.reason))
    return pd.DataFrame(rows, columns=["time", "kind", "node", "iface", "link", "frame", "length",
                                       "protocol", "src", "dst", "label", "reason"])


def notes_dataframe(trace, what: str | None = None):
    """Model events (``tcp-metrics``, ``arp-learned``, …) with their details as columns."""
    import pandas as pd
    rows = [{"time": n.time, "node": n.node, "what": n.what, **n.detail} for n in trace.notes
            if what is None or n.what == what]
    return pd.DataFrame(rows)
