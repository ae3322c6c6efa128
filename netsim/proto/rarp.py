"""RARP (RFC 903): a diskless host asks who it is; a server that knows it answers.

The request is an ARP packet under ethertype 0x8035 with operation 3
("request reverse"), broadcast, sender and target hardware address both the
asker's own; the reply (operation 4) is sent to the asker and carries its IPv4
address as the target protocol address. The client retries every
``retry_interval`` until it is answered or ``max_requests`` went unanswered.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.wire.headers import RARP_REPLY, RARP_REQUEST


@dataclass(frozen=True, kw_only=True, slots=True)
class SendRarpRequest:
    attempt: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SendRarpReply:
    """Tell ``target_mac`` that its address is ``target_ip``."""
    target_mac: bytes
    target_ip: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Assigned:
    """The client learned its address from the server at ``server_ip``."""
    ip: int
    server_ip: int


@dataclass(frozen=True, kw_only=True, slots=True)
class GaveUp:
    attempts: int


class RarpClient:
    def __init__(self, mac: bytes, *, retry_interval: float = 1.0, max_requests: int = 5) -> None:
        self.mac = mac
        self.retry_interval = retry_interval
        self.max_requests = max_requests
        self.address: int | None = None
        self.attempts = 0
        self._deadline: float | None = None
        self._out: list = []

    def start(self, now: float) -> None:
        self._send(now)

    def _send(self, now: float) -> None:
        self.attempts += 1
        self._deadline = now + self.retry_interval
        self._out.append(SendRarpRequest(attempt=self.attempts))

    def receive(self, op: int, sha: bytes, spa: int, tha: bytes, tpa: int, now: float) -> None:
        if op != RARP_REPLY or tha != self.mac or self.address is not None:
            return
        self.address = tpa
        self._deadline = None
        self._out.append(Assigned(ip=tpa, server_ip=spa))

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        return self._deadline

    def handle_timer(self, now: float) -> None:
        if self._deadline is None or now < self._deadline:
            return
        if self.attempts >= self.max_requests:
            self._deadline = None
            self._out.append(GaveUp(attempts=self.attempts))
        else:
            self._send(now)


class RarpServer:
    """Answers requests for the hardware addresses in ``table`` (MAC → IPv4)."""

    def __init__(self, table: dict[bytes, int]) -> None:
        self.table = dict(table)
        self.answered = 0
        self._out: list = []

    def receive(self, op: int, sha: bytes, spa: int, tha: bytes, tpa: int, now: float) -> None:
        if op != RARP_REQUEST or tha not in self.table:
            return
        self.answered += 1
        self._out.append(SendRarpReply(target_mac=tha, target_ip=self.table[tha]))

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> None:
        return None

    def handle_timer(self, now: float) -> None:
        pass
