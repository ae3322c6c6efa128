"""Run a scenario and write what its ``outputs:`` ask for."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from netsim.trace.outfiles import open_new, refuse_links, write_into_place
from netsim.trace.summary import frame_counts


@dataclass
class RunResult:
    scenario: object
    network: object
    summary: dict
    outdir: Path | None = None
    files: list[Path] = field(default_factory=list)
    #: What the run could not do as asked, said under its output.
    remarks: list[str] = field(default_factory=list)

    @property
    def trace(self):
        return self.network.trace

    def app(self, name: str, node: str | None = None):
        """The first application called ``name`` (on ``node``, if given)."""
        for app in self.network.apps:
            if app.name == name and (node is None or app.node.name == node):
                return app
        raise KeyError(f"no {name} app" + (f" on {node}" if node else ""))

    def check(self, expect=None):
        """The run checked against the scenario's ``expect:`` — or ``expect``, a list of
        expectations or the path of a teacher's file of them (:mod:`netsim.check`); a
        :class:`~netsim.check.report.CheckReport`, shown as a table in Jupyter."""
        from netsim.scenario.checks import check_run, load_expect_file
        items = expect
        if isinstance(expect, (str, os.PathLike)):
            items = load_expect_file(expect)
        elif expect is not None:
            from netsim.check.expect import check_expectations
            check_expectations(items, self.scenario.error)
        return check_run(self, items, source=self.scenario.source)

    def sequence(self, **options):
        """The run's sequence diagram (see :func:`netsim.viz.sequence_diagram`)."""
        from netsim.viz import sequence_diagram
        options.setdefault("limit", 60)
        return sequence_diagram(self.trace, **options)

    def waterfall(self, nodes=None):
        """The page loads of the run (of ``nodes``' browsers), request by request (see
        :func:`netsim.viz.waterfall`)."""
        from netsim.viz import waterfall
        return waterfall(self.trace, nodes=nodes)

    def _repr_html_(self) -> str:
        from html import escape
        s = self.summary
        parts = [f"<h4>{escape(s['scenario'])} — seed {s['seed']}, {s['end_time']:g} s simulated</h4>"]
        for app in in_time_order(s["apps"]):
            parts.append(f"<b>{escape(app['app'])}</b> on {escape(app['node'])} at {app['at']:g} s"
                         f"<pre>{escape(chr(10).join(app['output']) or '(no output)')}</pre>")
        rows = "".join(f"<tr><td>{escape(n)}</td><td>{c['frames']}</td><td>{c['bytes']}</td>"
                       f"<td>{c['lost']}</td><td>{c['queue_full']}</td></tr>"
                       for n, c in s["links"].items())
        parts.append("<table><tr><th>link</th><th>frames</th><th>bytes</th><th>lost</th>"
                     f"<th>queue full</th></tr>{rows}</table>")
        if s["drops"]:
            parts.append("drops: " + ", ".join(f"{escape(r)} {n}" for r, n in s["drops"].items()))
        return "\n".join(parts)

    def text(self) -> str:
        """What ``netsim run`` prints: each tool's output as the tool prints it, then counts."""
        s = self.summary
        out = [f"== {s['scenario']} (seed {s['seed']}, ran {s['end_time']:g} s of simulated time)"]
        if s.get("stopped"):
            out.append(f"!! {s['stopped']}")
        for app in in_time_order(s["apps"]):
            out.append("")
            status = "" if app["status"] in ("finished", "serving") else f" [{app['status'].upper()}]"
            out.append(f"-- {app['app']} on {app['node']} at {app['at']:g} s{status}")
            out.extend(app["output"] or ["(no output)"])
        f = s["frames"]
        out.append("")
        lost = f["sent"] - f["transmitted"]
        out.append(f"frames: {f['sent']} sent on links"
                   + (f" ({lost} lost on the way)" if lost else "")
                   + f", {f['received']} received, {f['dropped']} dropped")
        if s["drops"]:
            out.append("drops:  " + ", ".join(f"{reason} {n}" for reason, n in s["drops"].items()))
        for name, c in s["links"].items():
            extra = "".join(f", {c[k]} {k.replace('_', ' ')}" for k in ("lost", "queue_full") if c[k])
            out.append(f"  {name}: {c['frames']} frames, {c['bytes']} bytes{extra}")
        for remark in self.remarks:
            out.append(f"({remark})")
        if self.files:
            out.append("")
            out.append(f"wrote {len(self.files)} files to {self.outdir}/")
        return "\n".join(out)


def run_scenario(scenario, outdir: str | Path | None = None, *, seed: int | None = None,
                 until: float | None = None, outputs: list[str] | None = None,
                 stream: bool = False, progress: bool = False) -> RunResult:
    """Run ``scenario`` and, with ``outdir``, write its outputs there. ``stream``: write
    the captures and ``trace.jsonl`` as the run goes, so memory stays flat however long
    it is (the diagrams then come from ``netsim diagram OUTDIR``); ``progress``: a bar
    of simulated time on a terminal, for runs longer than a couple of seconds."""
    wanted = scenario.outputs if outputs is None else list(outputs)
    trace = True
    if stream:
        if outdir is None:
            raise ValueError("a streaming run writes as it goes: give it an output folder")
        from netsim.trace.stream import StreamingTrace
        refuse_links(Path(outdir), ["pcap", "trace.jsonl", "summary.json"])
        trace = StreamingTrace(Path(outdir), [o for o in wanted if o in ("pcap", "jsonl")])
    # matplotlib imported by another process while this one builds and runs the network.
    painter = None
    if outdir is not None and not stream and {"timeline", "topology"} & set(wanted):
        from netsim.scenario.painter import Painter
        painter = Painter.start(PAINTED)
    try:
        return _run(scenario, outdir, seed, until, wanted, trace, stream, progress, painter)
    finally:
        if painter is not None:
            painter.cancel()                      # if it was not given the pictures


def _run(scenario, outdir, seed, until, wanted, trace, stream, progress, painter) -> RunResult:
    network = scenario.build(seed=seed, trace=trace)
    end = scenario.until if until is None else until
    _run_with_progress(network, end, progress)
    if stream:
        network.trace.close(list(network.links))
    for app in network.apps:
        app.wrap_up()
    summary = {
        "scenario": scenario.name,
        "stopped": network.stopped,
        "seed": network.seed,
        "until": end,
        "end_time": network.now,
        **frame_counts(network.trace),
        "apps": [{"app": a.name, "node": a.node.name, "at": a.at, "status": a.status,
                  "error": a.error, "result": a.result(), "output": list(a.lines),
                  "first_output_at": getattr(a.lines, "first_at", None)}
                 for a in network.apps],
    }
    for name in network.links:
        summary["links"].setdefault(name, {"frames": 0, "bytes": 0, "queued": 0, "lost": 0,
                                           "queue_full": 0})
    summary["links"] = dict(sorted(summary["links"].items()))
    result = RunResult(scenario, network, summary)
    if outdir is not None:
        result.outdir = Path(outdir)
        if stream:
            result.files = _streamed_files(network, Path(outdir), wanted)
            undrawn = [o for o in wanted if o in ("sequence", "timeline")]
            if undrawn:
                result.remarks.append(
                    f"not drawn in a streaming run: {', '.join(undrawn)}"
                    + (f" (netsim diagram {outdir} draws the sequence from trace.jsonl)"
                       if "jsonl" in wanted else ""))
            wanted = [o for o in wanted if o in ("topology", "summary")]
        result.files += write_outputs(result, Path(outdir), wanted, painter)
    return result


def _run_with_progress(network, end: float, progress: bool, *, min_wall: float = 2.0) -> None:
    """``network.run(until=end)``, with a bar of simulated time when asked, on a
    terminal, once the run has taken two seconds (a tick every 1/200 of the run reads
    the clock; it changes nothing the run does)."""
    if not progress or end <= 0:
        network.run(until=end)
        return
    from netsim.progress import Progress
    bar = Progress(end, unit="s simulated", min_wall=min_wall)
    if bar.enabled:
        env, step = network.env, end / 200

        def tick():
            while True:
                yield env.timeout(step)
                bar.update(env.now)
        env.process(tick())
    try:
        network.run(until=end)
    finally:
        bar.update(network.now, force=True)
        bar.close()


def _streamed_files(network, outdir: Path, wanted) -> list[Path]:
    from netsim.trace.pcap import file_name
    files = [outdir / "pcap" / file_name(link) for link in network.links] if "pcap" in wanted else []
    return files + ([outdir / "trace.jsonl"] if "jsonl" in wanted else [])


def write_outputs(result: RunResult, outdir: Path, outputs: list[str] | None = None,
                  painter=None) -> list[Path]:
    """Write what ``outputs`` (default: the scenario's ``outputs:``, else everything)
    names; ``painter``: a :class:`~netsim.scenario.painter.Painter` started before the
    run, to draw the matplotlib pictures."""
    from netsim.scenario.painter import write_in_parallel
    from netsim.trace.jsonl import write_jsonl
    from netsim.trace.pcap import write_link_pcaps
    from netsim.trace.pcapng import write_link_pcapngs

    outdir.mkdir(parents=True, exist_ok=True)
    wanted = result.scenario.outputs if outputs is None else outputs
    trace = result.network.trace
    # A symbolic link planted where a file or folder goes is refused before anything is
    # written (the writers refuse or replace one planted later: netsim.trace.outfiles).
    refuse_links(outdir, planned_names(result, wanted, outdir))
    jobs = {
        "pcap": lambda: write_link_pcaps(trace, outdir / "pcap", list(result.network.links),
                                         root=outdir),
        "jsonl": lambda: [write_jsonl(trace, outdir / "trace.jsonl")],
        "sequence": lambda: write_sequence(trace, outdir, result.scenario.data.get("sequence", {})),
        "timeline": lambda: write_timelines(trace, outdir),
        "topology": lambda: write_topology(trace, outdir),
    }
    jobs = {name: job for name, job in jobs.items() if name in wanted}
    # matplotlib's pictures beside the rest (the sequence diagram needs no matplotlib):
    # by the painter, which imported it during the run, or by a process forked now.
    elsewhere = {name: (outdir,) for name in jobs if name in PAINTED}
    if painter is not None and elsewhere and painter.draw(trace, elsewhere):
        written = {name: job() for name, job in jobs.items() if name not in elsewhere}
        painted = painter.result()
        written.update(painted if painted is not None else
                       {name: jobs[name]() for name in elsewhere})
    else:
        if painter is not None:
            painter.cancel()
        # The timelines (the heaviest) in the other process: each side then imports
        # matplotlib while the other works.
        written = write_in_parallel({k: j for k, j in jobs.items() if k != "timeline"},
                                    {k: j for k, j in jobs.items() if k == "timeline"})
    files = [path for name in jobs for path in written[name]]
    if "pcap" in wanted and result.network.tls is not None:
        files += write_tls_files(result.network.tls, outdir)
        files += write_link_pcapngs(trace, outdir / "pcap", list(result.network.links),
                                    result.network.tls.keylog_text().encode("ascii", "replace"),
                                    root=outdir)
    # The summary is always written: it is what the run found.
    path = outdir / "summary.json"
    with open_new(path, "w") as out:
        out.write(json.dumps(result.summary, indent=2, ensure_ascii=False) + "\n")
    files.append(path)
    return files


#: What each output writes in the output folder (the timelines' cwnd-NODE.png also).
OUTPUT_NAMES = {"jsonl": ["trace.jsonl"],
                "sequence": [f"sequence.{ext}" for ext in ("svg", "png", "mmd", "puml")],
                "timeline": ["timeline.png", "cwnd.png", "waterfall.png"],
                "topology": ["topology.png"]}


def write_tls_files(world, outdir: Path) -> list[Path]:
    """Beside the captures of a run with TLS: ``keys.log`` (the session secrets in
    SSLKEYLOGFILE format, for ``tshark -o tls.keylog_file:keys.log``) and ``certs/``
    (the scenario CA and each server's chain and key)."""
    path = outdir / "keys.log"
    with open_new(path, "w") as out:
        out.write(world.keylog_text())
    files = [path]
    for name, data in world.files().items():
        cert = outdir / "certs" / name
        with open_new(cert, "wb", root=outdir) as out:
            out.write(data)
        files.append(cert)
    # QUIC's own view of each connection, for qvis (https://qvis.quictools.info).
    for name, logger in world.qlogs.items():
        path = outdir / "qlog" / f"{name}.qlog"
        with open_new(path, "w", root=outdir) as out:
            out.write(json.dumps(logger.to_dict(), separators=(",", ":")) + "\n")
        files.append(path)
    return files


def planned_names(result: RunResult, wanted, outdir: Path) -> list[str]:
    """Every name under ``outdir`` the outputs ``wanted`` may write."""
    from netsim.trace.pcap import file_name
    names = ["summary.json"]
    world = result.network.tls
    if "pcap" in wanted and world is not None:
        names += ["keys.log", "certs"] + [f"certs/{name}" for name in world.files()]
        if world.qlogs:
            names += ["qlog"] + [f"qlog/{name}.qlog" for name in world.qlogs]
        names += [f"pcap/{file_name(link)}ng" for link in result.network.links]
    for output in wanted:
        names += OUTPUT_NAMES.get(output, [])
    if "timeline" in wanted:
        names += [p.name for p in outdir.glob("cwnd-*.png")]
    if "pcap" in wanted:
        names += ["pcap"] + [f"pcap/{file_name(link)}" for link in result.network.links]
    return names


def write_topology(trace, outdir: Path) -> list[Path]:
    from netsim.viz import topology_plot
    return [_save(topology_plot(trace), outdir / "topology.png")]


def in_time_order(apps: list[dict]) -> list[dict]:
    """Each app's block where its output begins (an app that printed nothing, or only
    its closing summary, at the end), ties in the order the scenario gave them."""
    return sorted(apps, key=lambda app: (app.get("first_output_at") is None,
                                         app.get("first_output_at") or 0.0))


def _save(fig, path: Path) -> Path:
    from netsim.viz.render import save_figure
    return write_into_place(path, lambda part: save_figure(fig, part))


def sequence_options(spec: dict) -> dict:
    """A scenario's ``sequence:`` section → :func:`netsim.viz.sequence_diagram` arguments."""
    from netsim.units import parse_time
    from netsim.viz.filters import parse_filter
    options = parse_filter(spec.get("filter", ""))
    if "from" in spec:
        options["start"] = parse_time(spec["from"])
    if "to" in spec:
        options["end"] = parse_time(spec["to"])
    for key in ("level", "scale", "ports", "headers"):
        if key in spec:
            options[key] = spec[key]
    options["limit"] = spec.get("limit", 60)
    return options


def write_sequence(trace, outdir: Path, spec: dict) -> list[Path]:
    from netsim.viz import sequence_diagram
    diagram = sequence_diagram(trace, **sequence_options(spec))
    canvas = diagram.canvas()            # drawn once, saved in both picture formats
    return [write_into_place(outdir / f"sequence.{ext}", lambda part: diagram.save(part, canvas))
            for ext in ("svg", "png", "mmd", "puml")]


#: Congestion records a second sender needs for a cwnd plot of its own (a bulk transfer,
#: not a mail client's few segments).
BULK_METRICS = 200


def _metric_count(trace, connection: str) -> int:
    node, conn = connection.split(" ", 1)
    return sum(1 for n in trace.notes if n.what == "tcp-metrics" and n.node == node
               and n.detail["conn"] == conn)


def write_timelines(trace, outdir: Path) -> list[Path]:
    from netsim.viz import tcp_plot, timeline_figure, waterfall
    from netsim.viz.timeline import tcp_connections
    files = [_save(timeline_figure(trace), outdir / "timeline.png")]
    # The busiest sender's congestion window as cwnd.png; other bulk senders (two stacks
    # side by side) beside it as cwnd-NODE.png.
    drawn: set[str] = set()
    for connection in tcp_connections(trace):
        node = connection.split(" ", 1)[0]
        if node in drawn or (drawn and _metric_count(trace, connection) < BULK_METRICS):
            continue
        figure = tcp_plot(trace, connection)
        if figure is not None:
            name = "cwnd.png" if not drawn else f"cwnd-{node}.png"
            files.append(_save(figure, outdir / name))
            drawn.add(node)
    pages = waterfall(trace)
    if pages is not None:
        files.append(_save(pages, outdir / "waterfall.png"))
    return files


#: The pictures matplotlib draws, which a painter process draws beside the run.
PAINTED = {"timeline": write_timelines, "topology": write_topology}
