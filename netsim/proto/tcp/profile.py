"""The two host stacks a scenario can choose (``stack: linux`` or ``stack: textbook``):
TcpConnection settings, each Linux value with where it comes from.

``linux`` — what a Linux 6.x host does by default (``sysctl net.ipv4.tcp_*`` and the
kernel's constants): SYN options MSS, SACK_PERM, TS, NOP, WS 7 (``tcp_sack=1``,
``tcp_timestamps=1``, ``tcp_window_scaling=1``, a scale of 7 for the 6 MB ``tcp_rmem``
maximum), a SYN window of 64240 (``tcp_rmem`` default 131072, half of it as window,
rounded down to whole 1460-byte segments; 65160 in a SYN-ACK, in 1448-byte segments once
timestamps are agreed) that widens by two segments per full segment received
(``tcp_grow_window``) up to the 6 MB that autotuning allows, advertised rounded up to the
window scale's unit (``__tcp_select_window``: 64240 is sent as 502), an initial window of 10 segments
(RFC 6928, ``TCP_INIT_CWND``), CUBIC (``tcp_congestion_control=cubic``), delayed ACKs
of 40 ms (``TCP_DELACK_MIN``) after a quick-ACK start of 16 segments
(``TCP_MAX_QUICKACKS``), the FIN riding on the last data segment when the application
closes before it leaves, the ACK of the peer's FIN delayed so that a prompt close()
carries it on our FIN (``tcp_fin`` enters ping-pong mode: a close in three segments),
an orphaned connection's FIN-WAIT-2 ended after 60 s (``tcp_fin_timeout``), TIME-WAIT
of 60 s (``TCP_TIMEWAIT_LEN``), and zero-window
probes as ``tcp_xmit_probe_skb`` sends them — no data, the sequence number one below
SND.UNA (Wireshark calls it a keep-alive) — backing off to ``TCP_RTO_MAX``, 120 s.

``textbook`` — the stack networking textbooks and the Mathis model describe: no SACK, no
timestamps, an initial window per RFC 5681, NewReno, an ACK for every segment (the
peer's FIN too, at once: the four-segment close textbooks draw, FIN / ACK / FIN / ACK), a
FIN of its own, FIN-WAIT-2 until the peer's FIN (RFC 9293 has no timeout), TIME-WAIT
2·MSL, one-byte zero-window probes.
"""

from __future__ import annotations

from netsim.proto.tcp.congestion import NewReno
from netsim.proto.tcp.cubic import Cubic

LINUX = {"sack": True, "timestamps": True, "wscale": 7, "initial_space": 65536,
         "recv_buffer": 6291456, "initial_window": 10, "congestion": Cubic, "delayed_ack": 0.04,
         "quickack": 16, "fin_with_data": True, "time_wait": 60.0, "fin_timeout": 60.0,
         "old_seq_window_probe": True, "persist_max": 120.0}
TEXTBOOK = {"sack": False, "timestamps": False, "congestion": NewReno, "delayed_ack": 0.0}
STACKS = {"linux": LINUX, "textbook": TEXTBOOK}
CONGESTION = {"cubic": Cubic, "newreno": NewReno}
