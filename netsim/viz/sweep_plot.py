"""A metric against a varied parameter, over a sweep's table: the median of the seeds
and their interquartile band, one line per combination of the other varied keys, and
a model curve over it when asked (Mathis et al. for TCP goodput against loss)."""

from __future__ import annotations

import math

#: Colours of the lines, in order (matplotlib's tab10, which prints well in grey too).
_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def quantity(value) -> float:
    """A varied value as a number: ``1%`` → 0.01, ``40ms`` → 0.04, ``10Mbps`` → 1e7."""
    from netsim.units import parse_fraction, parse_rate, parse_size, parse_time
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    for parse in (parse_fraction, parse_time, parse_rate, parse_size):
        try:
            return float(parse(value))
        except (ValueError, TypeError):
            continue
    raise ValueError(f"{value!r} is not a number")


def find_columns(frame, name: str) -> list[str]:
    """The columns ``name`` means when it names one measure of several applications
    (``load_time`` → ``browser@alice.visits[0].load_time_s`` and bob's): each one
    drawn as a line of its own. One column otherwise, as :func:`find_column` finds it."""
    columns = list(frame.columns)
    if name in columns:
        return [name]
    tokens = name.split(".")
    matches = [c for c in columns if _abbreviates(tokens, c)]
    per_app: dict[str, str] = {}
    for column in sorted(matches, key=lambda c: c.count("[")):
        per_app.setdefault(column.partition(".")[0], column)   # its summary, not one visit
    chosen = list(per_app.values())
    if len(chosen) > 1 and len({c.rpartition(".")[2] for c in chosen}) == 1:
        return chosen
    return [find_column(frame, name)]


def find_column(frame, name: str, *, among=None) -> str:
    """The column ``name`` means: itself, or the one column whose dotted parts it
    abbreviates (``goodput`` → ``tcp-source@a.goodput_bps`` if no other matches;
    ``loss`` → ``links[1].loss``)."""
    columns = list(among if among is not None else frame.columns)
    if name in columns:
        return name
    tokens = name.split(".")
    matches = [c for c in columns if _abbreviates(tokens, c)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(f"no column of the sweep table matches {name!r}")
    raise ValueError(f"{name!r} matches {len(matches)} columns ({', '.join(matches[:6])}); "
                     "name one, e.g. " + repr(_shortest(matches[0])))


def _abbreviates(tokens, column: str) -> bool:
    parts = column.replace("[", ".[").split(".")
    i = 0
    for part in parts:
        if i < len(tokens) and part.startswith(tokens[i]):
            i += 1
    return i == len(tokens) and parts[-1].startswith(tokens[-1])


def _shortest(column: str) -> str:
    parts = column.split(".")
    return f"{parts[0].split('@')[0]}.{parts[-1]}" if len(parts) > 1 else column


def mathis(loss: float, *, mss: int, rtt: float) -> float:
    """Mathis et al. (1997): TCP's throughput MSS/RTT · √(3/2)/√p, in bit/s."""
    return mss * 8 / rtt * math.sqrt(1.5) / math.sqrt(loss)


def sweep_figure(frame, metric: str, parameter: str, *, reference: dict | None = None):
    """The figure of ``metric`` against ``parameter`` (names as :func:`find_column`
    takes them); ``reference``: ``{"model": "mathis", "mss": 1460, "rtt": 0.04}``."""
    from matplotlib.figure import Figure

    varied = frame.attrs.get("varied") or []
    ok = frame[frame["status"] == "ok"] if "status" in frame else frame
    y_cols = find_columns(ok, metric)
    y_col = y_cols[0]
    x_col = find_column(ok, parameter, among=varied) if varied else find_column(ok, parameter)
    others = [c for c in varied if c != x_col]
    scale, unit = (1e6, " (Mbit/s)") if y_col.endswith("_bps") else (1.0, "")
    percent = any(isinstance(v, str) and v.strip().endswith("%") for v in ok[x_col])
    x_factor = 100.0 if percent else 1.0

    fig = Figure(figsize=(7.5, 4.6))
    ax = fig.subplots()
    groups = ok.groupby(others, sort=False) if others else [((), ok)]
    series = [(key, group, column) for key, group in groups for column in y_cols]
    for k, (key, group, y_col) in enumerate(series):
        colour = _COLOURS[k % len(_COLOURS)]
        xs = sorted({quantity(v) for v in group[x_col]})
        stats = []
        for x in xs:
            ys = sorted(group[group[x_col].map(quantity) == x][y_col].dropna() / scale)
            if ys:
                stats.append((x * x_factor, _quantile(ys, 0.25), _quantile(ys, 0.5), _quantile(ys, 0.75)))
                ax.scatter([x * x_factor] * len(ys), ys, s=9, color=colour, alpha=0.35, linewidths=0)
        if not stats:
            continue
        label = ", ".join(f"{c}={v}" for c, v in zip(others, key if isinstance(key, tuple) else (key,)))
        if len(y_cols) > 1:                 # one line per application: name it
            label = ", ".join(filter(None, [y_col.partition(".")[0], label]))
        seeds = group.groupby(x_col).size().max()
        ax.plot([s[0] for s in stats], [s[2] for s in stats], "o-", color=colour, lw=1.8, ms=4,
                label=(label + " — " if label else "") + f"median of {seeds} seeds")
        ax.fill_between([s[0] for s in stats], [s[1] for s in stats], [s[3] for s in stats],
                        color=colour, alpha=0.18, lw=0,
                        label="interquartile range" if k == 0 else None)
    if reference and reference.get("model") == "mathis":
        xs_all = sorted({quantity(v) for v in ok[x_col]})
        lo, hi = xs_all[0], xs_all[-1]
        if lo > 0:
            dense = [lo * (hi / lo) ** (i / 99) for i in range(100)] if hi > lo else [lo]
            ax.plot([x * x_factor for x in dense],
                    [mathis(x, mss=reference["mss"], rtt=reference["rtt"]) / scale for x in dense],
                    "--", color="black", lw=1.2,
                    label=f"Mathis et al.: MSS/RTT·√(3/2)/√p (MSS {reference['mss']}, "
                          f"RTT {reference['rtt'] * 1000:g} ms)")
    y_col = y_cols[0] if len(y_cols) == 1 else y_cols[0].rpartition(".")[2]
    y_name = y_col[:-4] if y_col.endswith("_bps") else y_col
    ax.set_xlabel(x_col + (" (%)" if percent else ""))
    ax.set_ylabel(y_name + unit)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"{y_name} against {x_col}", fontsize=10)
    fig.tight_layout()
    return fig


def _quantile(sorted_values, q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def compare_figure(frame, metric: str, x: str, names: dict[str, str]):
    """One panel per page shape (the part of a node's name after its last ``-``), one
    line per protocol (the part before): the median over seeds at each value of ``x``,
    the band from the fastest to the slowest run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = frame[frame["status"] == "ok"]
    values = list(dict.fromkeys(ok[x]))
    positions = list(range(len(values)))          # evenly spaced, labelled by the values
    shapes = list(dict.fromkeys(node.rpartition("-")[2] for node in names))
    fig, axes = plt.subplots(1, len(shapes), figsize=(5.2 * len(shapes), 4.2), squeeze=False,
                             sharey=False)
    unit = metric.rsplit(".", 1)[-1]
    for ax, shape in zip(axes[0], shapes):
        for node, column in names.items():
            if node.rpartition("-")[2] != shape:
                continue
            label = node.rpartition("-")[0] or node
            grouped = [ok[ok[x] == v][column].dropna() for v in values]
            med = [g.median() for g in grouped]
            line, = ax.plot(positions, med, marker="o", label=label)
            ax.fill_between(positions, [g.min() for g in grouped], [g.max() for g in grouped],
                            color=line.get_color(), alpha=0.15, linewidth=0)
        ax.set_title(f"page: {shape}")
        ax.set_xticks(positions, [str(v) for v in values])
        ax.set_xlabel(x)
        ax.set_ylabel(unit.replace("_s", " (s)").replace("_", " "))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(title="protocol", fontsize=8)
    name = unit[:-2].replace("_", " ") + " (s)" if unit.endswith("_s") else unit.replace("_", " ")
    fig.suptitle(f"{name}: median over seeds, band from fastest to slowest",
                 fontsize=10)
    fig.tight_layout()
    return fig
