"""A sweep's comparison: one metric of several apps against one varied key, as a table of
medians and ranges — ``browser@*.load_time_s~links[7].loss`` compares the page-load
time of every browser (one row per node) at each loss rate, over the seeds.

The ``*`` stands for the node: each column of the sweep's frame that matches is one
series, named by its node (``h2-many``). Nodes named ``PROTOCOL-SHAPE`` are grouped by
their shape in the table, and drawn one panel per shape
(:func:`netsim.viz.sweep_plot.compare_figure`).
"""

from __future__ import annotations

import fnmatch

from netsim.errors import ScenarioError


def series(frame, spec: str) -> tuple[str, str, dict[str, str]]:
    """(metric pattern, varied column, node → its column) of a ``METRIC~PARAMETER`` spec."""
    from netsim.viz.sweep_plot import find_column
    metric, _, parameter = spec.partition("~")
    metric, parameter = metric.strip(), parameter.strip()
    if "*" not in metric or not parameter:
        raise ScenarioError(f"compare {spec!r}: write it as APP@*.METRIC~PARAMETER, e.g. "
                            "browser@*.load_time_s~links[7].loss", path="sweep.compare")
    # The * is one node's name: browser@*.load_time_s is each browser's own figure, not
    # also the figure of each visit in its list (browser@h1.visits[0].load_time_s).
    head, _, tail = metric.partition("*")
    columns = {c: c for c in frame.columns if fnmatch.fnmatchcase(c, metric)
               and not set(c[len(head):len(c) - len(tail) if tail else None]) & set(".[]")}
    if not columns:
        raise ScenarioError(f"compare {spec!r}: no run has a figure {metric!r}",
                            path="sweep.compare")
    x = find_column(frame, parameter, among=frame.attrs.get("varied") or [])
    names = {c[len(head):len(c) - len(tail) if tail else None]: c for c in columns}
    return metric, x, dict(sorted(names.items(), key=lambda kv: _order(kv[0])))


def _order(node: str):
    protocol, _, shape = node.rpartition("-")
    return (shape, protocol) if protocol else ("", node)


def compare_table(frame, spec: str) -> str:
    """The medians and ranges, rows by node (grouped by shape), columns by value."""
    metric, x, names = series(frame, spec)
    ok = frame[frame["status"] == "ok"]
    values = list(dict.fromkeys(ok[x]))
    seeds = ok.groupby(x, sort=False).size().max() if len(ok) else 0
    width = max(len(n) for n in names) + 2
    lines = [f"{metric.split('.')[-1]} by {x}: median [min–max] over {seeds} seeds",
             " " * width + "".join(f"{v!s:>22}" for v in values)]
    shape = None
    for node, column in names.items():
        this = node.rpartition("-")[2]
        if shape is not None and this != shape:
            lines.append("")
        shape = this
        cells = []
        for value in values:
            group = ok[ok[x] == value][column].dropna()
            cells.append(f"{group.median():7.3f} [{group.min():.3f}–{group.max():.3f}]"
                         if len(group) else "—")
        lines.append(f"{node:<{width}}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)
