"""Where each arrow of a sequence diagram goes: rows that follow cause and effect.

Every message is a polyline down the page: it leaves its sender's lane at the row
of its send, passes each lane it was forwarded through at the rows it arrived and
left there (a packet waiting at a router for ARP sits on that router's lane while
the ARP exchange happens), and ends at its receiver's lane at the row it arrived
or died. Rows are the events — sends, hops, arrivals, drops — in time order, an
arrival before a send at the same instant, so a message sent in response to
another starts below the row where that other one arrived: no effect is ever
drawn above its cause.

``compressed`` (the default) gives every send its own row, one unit high with room
for its label, and puts every other point as high as each lane's order allows; idle stretches longer than the run's
usual pace get a mark saying how much time passed. ``time`` puts every event at
its simulated time to scale and moves labels down where they would overlap,
with a leader line back to the arrow they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from netsim.viz.messages import AFTER_WINDOW, Message
from netsim.viz.story import Elision

SEND_ROW = 1.0          # height of a row that starts an arrow (its label sits in it)
EVENT_ROW = 0.5         # the least a message's next point goes down
DROP_ROW = 0.8          # below a cross and its reason, the next point on that lane
LABEL_HEIGHT = 0.42     # what one line of label text needs, in row units
JUMP_ROW = 0.9          # the extra room a time-jump mark takes


@dataclass
class Arrow:
    """One message placed: its start, the lanes it passes through, its ends."""
    message: Message
    y_send: float
    #: (lane, y arrived, y left) for every lane it passed through on the way.
    hops: list = field(default_factory=list)
    #: (lane, y, drop reason or None, reached: the lane itself, not a point on the way to it)
    ends: list = field(default_factory=list)
    label_y: float = 0.0   # where the label's baseline sits (above y_send unless moved)


@dataclass
class Mark:
    """A row across the diagram: an elision, or time passing."""
    y: float
    text: str
    kind: str              # "elision", "minor" (an ACK or two left out) or "jump"


@dataclass
class Layout:
    arrows: list[Arrow]
    marks: list[Mark]
    bottom: float


_ARRIVE, _LEAVE = 0, 1      # at the same instant arrivals come first: they cause departures
_AFTER_SEND = 2             # a message's end at the very instant it was sent


def layout(items: list, lanes: list[str], scale: str = "compressed") -> Layout:
    """Place ``items`` (messages and :class:`~netsim.viz.story.Elision` marks)."""
    if scale not in ("compressed", "time"):
        raise ValueError("scale is 'compressed' or 'time'")
    lane_set = set(lanes)
    events = []         # (time, order, tie, item index, what, data)
    for i, item in enumerate(items):
        if isinstance(item, Elision):
            events.append((item.start, _LEAVE, i, i, "elision", None))
            continue
        m = item
        events.append((m.sent, _LEAVE, i, i, "send", None))
        for node, arrived, left in m.hops:
            if node in lane_set:
                events.append((arrived, _ARRIVE, i, i, "hop-in", node))
                if left is not None:
                    events.append((left, _LEAVE, i, i, "hop-out", node))
        for lane, t, why in m.receivers:
            end = max(t if t is not None else m.ended, m.sent)
            drawn_lane, reached = _end_spec(m, lane, why, lane_set)
            # Lost the instant it was sent (a link's loss decided at the sender): the end
            # still comes after its own send, not before it as arrivals usually do.
            order = _ARRIVE if end > m.sent else _AFTER_SEND
            events.append((end, order, i, i, "end", (drawn_lane, why, reached)))
    events.sort(key=lambda e: e[:3])
    if scale == "time":
        return _to_scale(items, events, lane_set)
    return _compressed(items, events, lane_set)


def _end_spec(m: Message, lane: str, why, lane_set: set) -> tuple[str, bool]:
    """The lane an end is drawn at and whether the arrow reaches it (a cross where it died;
    where a window ended while it was on its way, or held at a node it had reached)."""
    if why == AFTER_WINDOW and lane != m.dst:
        return lane, False
    if why is not None and lane == m.dst and m.drop_node is not None:
        if m.drop_node in lane_set and m.drop_node != m.src:
            return m.drop_node, True
        if m.drop_node != m.dst:
            return lane, False          # died on the way, somewhere not drawn: stop short
    return lane, True


def _compressed(items: list, events: list, lane_set: set) -> Layout:
    """Sends take a new row each, below everything so far (their labels need the room;
    their times, printed beside them, run down the page). Every other point goes only
    as far down as it must: below the message's previous point, and below the last
    thing that happened at its lane — so each lane reads in time order, and a
    message caused by an arrival leaves below it. Arrivals need not sit below sends
    at other lanes that happened earlier: nothing connects them."""
    arrows: dict[int, Arrow] = {}
    marks: list[Mark] = []
    last_y: dict[int, float] = {}
    lane_last: dict[str, float] = {}
    open_items: set[int] = set()
    times = sorted({e[0] for e in events})
    gaps = [b - a for a, b in zip(times, times[1:]) if b > a]
    jump = max(10 * median(gaps), 1e-3) if gaps else float("inf")
    bottom = -SEND_ROW
    previous_time = None
    for t, _order, _tie, i, what, data in events:
        if what in ("send", "elision"):
            if previous_time is not None and not open_items and t - previous_time >= jump:
                bottom += JUMP_ROW
                marks.append(Mark(bottom - JUMP_ROW / 2 + 0.1,
                                  f"{_duration(t - previous_time)} later", "jump"))
            minor = what == "elision" and items[i].minor
            bottom += EVENT_ROW if minor else SEND_ROW
            if what == "elision":
                marks.append(Mark(bottom - 0.2, f"⋯ {items[i].summary} not shown" if minor
                                  else items[i].text, "minor" if minor else "elision"))
                # What happens after the stretch left out is drawn below its mark.
                for lane in lane_last:
                    lane_last[lane] = max(lane_last[lane], bottom)
            else:
                m = items[i]
                arrows[i] = Arrow(m, bottom, label_y=bottom - 0.12)
                last_y[i] = lane_last[m.src] = bottom
                open_items.add(i)
            previous_time = t
            continue
        previous_time = t
        if what == "end":
            lane, _why, reached = data
            if not reached:
                lane = None                   # a point on the way, on no lane
        else:
            lane = data
        step = 0.0 if what == "hop-out" else EVENT_ROW
        point = last_y[i] + step
        if lane is not None and lane in lane_last:
            point = max(point, lane_last[lane] + step)
        if what == "end" and data[1] == AFTER_WINDOW:
            point = max(point, bottom + EVENT_ROW)    # the window's edge: below everything
        _place(arrows[i], what, data, point)
        if len(arrows[i].ends) == len(items[i].receivers):
            open_items.discard(i)
        last_y[i] = point
        if lane is not None:
            # A cross and its reason need more room than an arrowhead.
            died = what == "end" and data[1] is not None
            lane_last[lane] = point + (DROP_ROW - EVENT_ROW if died else 0.0)
        bottom = max(bottom, point)
    ordered = [arrows[i] for i in sorted(arrows, key=lambda k: arrows[k].y_send)]
    return Layout(ordered, marks, bottom + SEND_ROW)


def _to_scale(items: list, events: list, lane_set: set) -> Layout:
    sends = [e for e in events if e[4] in ("send", "elision")]
    t0 = min(e[0] for e in events) if events else 0.0
    t1 = max(e[0] for e in events) if events else 1.0
    span = (t1 - t0) or 1.0
    count = max(1, len(sends))
    # Enough height that labels mostly fit beside their arrows, within what a page can take.
    gaps = [b[0] - a[0] for a, b in zip(sends, sends[1:]) if b[0] > a[0]]
    wanted = LABEL_HEIGHT / median(gaps) if gaps else 0.0
    per_second = min(max(count * SEND_ROW / span, wanted), 140.0 / span)
    per_second = max(per_second, 8.0 / span)

    def at(t: float) -> float:
        return (t - t0) * per_second

    arrows: dict[int, Arrow] = {}
    marks: list[Mark] = []
    for t, _order, _tie, i, what, data in events:
        y = at(t)
        if what == "elision":
            marks.append(Mark(y, items[i].text, "elision"))
        elif what == "send":
            arrows[i] = Arrow(items[i], y, label_y=y - 0.12)
        else:
            _place(arrows[i], what, data, y)
    ordered = [arrows[i] for i in sorted(arrows, key=lambda k: (arrows[k].y_send, k))]
    _spread_labels(ordered, marks)
    bottom = max([at(t1)] + [a.label_y for a in ordered] + [e[1] for a in ordered for e in a.ends])
    return Layout(ordered, marks, bottom + SEND_ROW)


def _place(arrow: Arrow, what: str, data, y: float) -> None:
    """Put a hop or an end (lane, drop reason, reached) of ``arrow`` at row ``y``."""
    if what == "hop-in":
        arrow.hops.append([data, y, None])
    elif what == "hop-out":
        for hop in arrow.hops:
            if hop[0] == data and hop[2] is None:
                hop[2] = y
                break
    else:
        lane, why, reached = data
        arrow.ends.append((lane, y, why, reached))


def _spread_labels(arrows: list[Arrow], marks: list[Mark]) -> None:
    """Move labels down until none overlaps the one above it (leader lines show whose)."""
    taken = sorted(m.y for m in marks)
    floor = -1e9
    for arrow in arrows:
        y = max(arrow.label_y, floor + LABEL_HEIGHT)
        for top in taken:
            if abs(top - y) < LABEL_HEIGHT:
                y = top + LABEL_HEIGHT
        arrow.label_y = y
        floor = y


def _duration(seconds: float) -> str:
    """Three significant digits in the unit that keeps the number below 1000."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if round(seconds / scale, 3 - len(str(int(seconds / scale)))) >= 1 or unit == "µs":
            value = seconds / scale
            return f"{value:.{max(0, 3 - len(str(int(value))))}f} {unit}"
    return f"{seconds} s"
