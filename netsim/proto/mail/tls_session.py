"""What the three mail servers share about TLS (RFC 3207 for SMTP, RFC 2595 for POP3
and IMAP, RFC 8314 for implicit TLS on 465, 993 and 995), sans-I/O.

A server session is either inside TLS from its first byte (``tls=True``: SMTPS,
IMAPS, POP3S — the driver's layer did the handshake before the session's greeting),
or offers to start it (``starttls=True``: ``STARTTLS`` in EHLO or CAPABILITY, ``STLS``
in CAPA). When the client asks, the session answers its "go ahead" and emits
:class:`~netsim.proto.stream.StartTls`; from there on:

- whatever cleartext the client sent after the command is **dropped unread**
  (RFC 3207 §6, RFC 2595 §3.1): an attacker on the path can append commands to the
  client's ``STARTTLS`` line, and a server that reads them after the handshake runs
  them as if they came through TLS (CVE-2011-0411 in Postfix, CVE-2021-33515 in
  Dovecot's submission service; both now discard the buffer, as this does);
- what the client said before is **forgotten** (RFC 3207 §4.2: the EHLO name and any
  authentication; RFC 2595 §4: the USER name), so the client starts again inside TLS.

A session also says :class:`TlsStarted` when TLS is up, so its application can log
the line Postfix and Dovecot log.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.proto.stream import StartTls


@dataclass(frozen=True, slots=True)
class TlsStarted:
    """The session is inside TLS now (``info``: the handshake's
    :class:`~netsim.proto.tls.layer.TlsInfo`, None when the application must read it
    from its layer — implicit TLS, where the session starts after the handshake)."""
    info: object = None


def cipher_bits(cipher: str) -> int:
    """The symmetric key size of a cipher suite, as Postfix logs it ``(256/256 bits)``."""
    if "CHACHA20" in cipher or "AES_256" in cipher or "AES256" in cipher:
        return 256
    if "AES_128" in cipher or "AES128" in cipher:
        return 128
    return 0


#: TLS alerts (RFC 8446 §6) by the words :class:`~netsim.proto.tls.layer.TlsError` gives
#: them, and their numbers: OpenSSL's reason code for an alert received is 1000 + it.
_ALERTS = {"handshake failure": 40, "bad certificate": 42, "certificate revoked": 44,
           "certificate expired": 45, "certificate unknown": 46, "illegal parameter": 47,
           "unknown ca": 48, "access denied": 49, "decode error": 50, "decrypt error": 51,
           "protocol version": 70, "insufficient security": 71, "internal error": 80,
           "unrecognized name": 112, "no application protocol": 120}


def openssl_error(error) -> str:
    """A TLS failure as OpenSSL 3's ``ERR_error_string`` words it — what swaks prints
    after ``connect():`` and fetchmail after ``OpenSSL reported:``:
    ``error:0A000086:SSL routines::certificate verify failed`` for a certificate this
    side refused, ``error:0A000418:SSL routines::tlsv1 alert unknown ca`` for an alert
    the peer sent."""
    kind = getattr(error, "kind", None)
    if kind == "certificate":
        return "error:0A000086:SSL routines::certificate verify failed"
    alert = getattr(error, "alert", None)
    if kind == "alert" and alert in _ALERTS:
        number = _ALERTS[alert]
        family = "sslv3" if number < 48 else "tlsv1"
        return f"error:0A{1000 + number:06X}:SSL routines::{family} alert {alert}"
    text = str(error)
    reason = text.split(": ", 1)[1] if ": " in text else text
    return f"error:0A000000:SSL routines::{reason}"


class TlsServerSession:
    """The STARTTLS bookkeeping a mail server session mixes in (see the module).
    Subclasses call :meth:`_init_tls` in their ``__init__``, :meth:`_begin_tls` after
    their "go ahead" reply, check :attr:`_upgrading` in their input loop (and stop
    reading there), and give :meth:`_new_reader` and :meth:`_forget_for_tls`."""

    def _init_tls(self, *, starttls: bool, tls: bool) -> None:
        self.starttls_offered = starttls and not tls
        self.secure = tls                   # inside TLS (from the start, or once upgraded)
        self.tls_info = None
        self._upgrading = False
        #: Cleartext came after the STARTTLS command and was dropped unread.
        self.dropped_after_starttls = False

    def start_secure(self) -> None:
        """For implicit TLS: the session's first output says it is inside TLS."""
        if self.secure:
            self._out.append(TlsStarted(None))

    def _begin_tls(self) -> None:
        self._out.append(StartTls())
        self._upgrading = True
        self._forget_for_tls()

    def _drop_pending(self, unread_items: int = 0) -> None:
        """After the go-ahead: what is buffered is dropped, never read (RFC 3207 §6);
        ``unread_items`` counts whole lines already split off but not yet handled."""
        if unread_items or getattr(self._lines, "_buffer", b""):
            self.dropped_after_starttls = True
        self._lines = self._new_reader()

    def tls_ready(self, now: float, info) -> None:
        """The driver's call once the handshake after StartTls is done."""
        self.secure = True
        self._upgrading = False
        self.tls_info = info
        self._out.append(TlsStarted(info))

    def _new_reader(self):
        raise NotImplementedError

    def _forget_for_tls(self) -> None:
        raise NotImplementedError
