# SPDX-License-Identifier: LGPL-2.1-or-later
"""Subflows of an MPTCP connection: listing, TCP_INFO, open, close, backup, per-subflow options and service modes."""

import ctypes
import enum
import socket
import struct
from dataclasses import dataclass
from typing import List, Optional, Union

from . import _native
from ._addr import Address, AddressArg, SocketArg, fileno, from_sockaddr, to_sockaddr
from ._errors import raise_call, raise_control
from ._native import lib


class TcpState(enum.IntEnum):
    """A TCP state, as tcpi_state and ss(8) name them."""

    ESTABLISHED = 1
    SYN_SENT = 2
    SYN_RECV = 3
    FIN_WAIT1 = 4
    FIN_WAIT2 = 5
    TIME_WAIT = 6
    CLOSE = 7
    CLOSE_WAIT = 8
    LAST_ACK = 9
    LISTEN = 10
    CLOSING = 11
    NEW_SYN_RECV = 12

    @classmethod
    def _missing_(cls, value: object) -> "TcpState":
        # a state of a later kernel: keep its number
        if not isinstance(value, int):
            return None  # type: ignore[return-value]
        member = int.__new__(cls, value)
        member._name_ = "STATE_%d" % value
        member._value_ = value
        return member


class Mode(enum.IntEnum):
    """A connection's service mode at mpsockd (mpsock_set_mode(3)).

    set_mode() also takes the names mpsock(7) and mpsock run --mode use:
    "default", "manual", "aggregate", "handover", "interactive".
    """

    DEFAULT = 0
    MANUAL = 1
    AGGREGATE = 2
    HANDOVER = 3
    INTERACTIVE = 4


@dataclass(frozen=True)
class Subflow:
    """One live subflow, as mpsock_subflow_list(3) reports it.

    id                  the kernel's subflow id: 1 for the initial subflow,
                        never reused within a connection
    local, remote       (host, port)
    state               the subflow's TCP state
    backup_local        this host asked for backup (ss -tiM flag b)
    backup_remote       the peer asked for backup (flag B)
    fully_established   the MPTCP-level handshake is complete (flag e)
    joined              an MP_JOIN subflow, not the initial one (j, J)
    local_addr_id, remote_addr_id
                        the MPTCP address ids of the two addresses

    The flags and address ids come from sock_diag: they are None when
    its lookup did not find the subflow (it was closing), never a guess.
    """

    id: int
    local: Address
    remote: Address
    state: TcpState
    backup_local: Optional[bool]
    backup_remote: Optional[bool]
    fully_established: Optional[bool]
    joined: Optional[bool]
    local_addr_id: Optional[int]
    remote_addr_id: Optional[int]

    @property
    def backup(self) -> Optional[bool]:
        """Backup as this host asked it: backup_local."""
        return self.backup_local

    @classmethod
    def _from_c(cls, c: _native.CSubflow) -> "Subflow":
        known = bool(c.flags & _native.MPSOCK_SUBFLOW_FLAGS_KNOWN)

        def flag(bit: int) -> Optional[bool]:
            return bool(c.flags & bit) if known else None

        return cls(
            id=c.id,
            local=from_sockaddr(c.local),  # type: ignore[arg-type]
            remote=from_sockaddr(c.remote),  # type: ignore[arg-type]
            state=TcpState(c.state),
            backup_local=flag(_native.MPSOCK_SUBFLOW_BACKUP_LOCAL),
            backup_remote=flag(_native.MPSOCK_SUBFLOW_BACKUP_REMOTE),
            fully_established=flag(_native.MPSOCK_SUBFLOW_FULLY_ESTABLISHED),
            joined=flag(_native.MPSOCK_SUBFLOW_JOINED),
            local_addr_id=c.local_addr_id if known else None,
            remote_addr_id=c.remote_addr_id if known else None,
        )


@dataclass(frozen=True)
class TcpInfo:
    """The fields of one subflow's struct tcp_info that people use.

    Times are in microseconds (_us), rates in bytes per second, cwnd
    and ssthresh in segments.  retransmits counts the retransmissions of
    the current timeout episode (tcpi_retransmits), total_retrans those
    of the subflow's life.  A field that the running kernel's tcp_info is
    too short to hold is None.  raw is the whole structure as the kernel
    gave it, for the other fields (see <linux/tcp.h>).
    """

    state: TcpState
    ca_state: int
    retransmits: int
    total_retrans: int
    lost: int
    unacked: int
    rto_us: int
    rtt_us: int
    rttvar_us: int
    min_rtt_us: Optional[int]
    cwnd: int
    ssthresh: int
    snd_mss: int
    rcv_mss: int
    pmtu: int
    pacing_rate: Optional[int]
    max_pacing_rate: Optional[int]
    delivery_rate: Optional[int]
    delivery_rate_app_limited: Optional[bool]
    bytes_sent: Optional[int]
    bytes_acked: Optional[int]
    bytes_received: Optional[int]
    bytes_retrans: Optional[int]
    segs_out: Optional[int]
    segs_in: Optional[int]
    notsent_bytes: Optional[int]
    snd_wnd: Optional[int]
    raw: bytes


def _tcp_info_from(raw: bytes) -> TcpInfo:
    c = _native.CTcpInfo.from_buffer_copy(raw.ljust(ctypes.sizeof(_native.CTcpInfo), b"\0"))

    def opt(name: str) -> Optional[int]:
        f = getattr(_native.CTcpInfo, name)
        return getattr(c, name) if f.offset + f.size <= len(raw) else None

    rate = opt("tcpi_delivery_rate")
    return TcpInfo(
        state=TcpState(c.tcpi_state),
        ca_state=c.tcpi_ca_state,
        retransmits=c.tcpi_retransmits,
        total_retrans=c.tcpi_total_retrans,
        lost=c.tcpi_lost,
        unacked=c.tcpi_unacked,
        rto_us=c.tcpi_rto,
        rtt_us=c.tcpi_rtt,
        rttvar_us=c.tcpi_rttvar,
        min_rtt_us=opt("tcpi_min_rtt"),
        cwnd=c.tcpi_snd_cwnd,
        ssthresh=c.tcpi_snd_ssthresh,
        snd_mss=c.tcpi_snd_mss,
        rcv_mss=c.tcpi_rcv_mss,
        pmtu=c.tcpi_pmtu,
        pacing_rate=opt("tcpi_pacing_rate"),
        max_pacing_rate=opt("tcpi_max_pacing_rate"),
        delivery_rate=rate,
        delivery_rate_app_limited=(
            None if rate is None else bool(c.tcpi_delivery_rate_app_limited)
        ),
        bytes_sent=opt("tcpi_bytes_sent"),
        bytes_acked=opt("tcpi_bytes_acked"),
        bytes_received=opt("tcpi_bytes_received"),
        bytes_retrans=opt("tcpi_bytes_retrans"),
        segs_out=opt("tcpi_segs_out"),
        segs_in=opt("tcpi_segs_in"),
        notsent_bytes=opt("tcpi_notsent_bytes"),
        snd_wnd=opt("tcpi_snd_wnd"),
        raw=raw,
    )


def subflows(sock: SocketArg) -> List[Subflow]:
    """The live subflows of sock's MPTCP connection.

    An unconnected or listening socket has none.  No privilege needed.
    Raises mpsock.Error: EOPNOTSUPP when sock is not MPTCP (or fell back
    to TCP), ENOSYS on a kernel without MPTCP_FULL_INFO.
    """
    fd = fileno(sock)
    n = 8
    while True:
        arr = (_native.CSubflow * n)()
        got = lib.mpsock_subflow_list(fd, arr, n)
        if got < 0:
            raise_call("mpsock_subflow_list")
        if got <= n:
            return [Subflow._from_c(arr[i]) for i in range(got)]
        n = got + 4  # more appeared than fitted: again, with room


def subflow(sock: SocketArg, id: int) -> Subflow:
    """The live subflow with kernel id id (ProcessLookupError if none)."""
    c = _native.CSubflow()
    if lib.mpsock_subflow_get(fileno(sock), id, ctypes.byref(c)) < 0:
        raise_call("mpsock_subflow_get", "no live subflow %d" % id)
    return Subflow._from_c(c)


def tcp_info(sock: SocketArg, id: int) -> TcpInfo:
    """TCP_INFO of subflow id, read in process without privilege.

    Raises ProcessLookupError (ESRCH) when no live subflow has that id.
    """
    buf = ctypes.create_string_buffer(_native.TCP_INFO_BUFLEN)
    n = _native.socklen_t(len(buf))
    if lib.mpsock_subflow_tcp_info(fileno(sock), id, buf, ctypes.byref(n)) < 0:
        raise_call("mpsock_subflow_tcp_info", "no tcp_info for subflow %d" % id)
    return _tcp_info_from(buf.raw[: n.value])


def open_subflow(
    sock: SocketArg,
    local: Optional[AddressArg],
    remote: AddressArg,
    backup: bool = False,
    wait: Optional[float] = None,
    bound: bool = True,
) -> int:
    """Open a subflow from local to remote; return its kernel id.

    local and remote are (host, port) tuples with numeric hosts, or a
    host alone (port 0); both of one family.  local None (or "0.0.0.0",
    "::") lets routing choose the source; local port 0 lets the kernel
    choose one; remote port 0 means the connection's own port.

    backup: join as a backup subflow.  bound=False lets routing choose
    the interface (MPSOCK_OPEN_UNBOUND); by default the subflow is bound
    to the interface that owns the local address.

    wait None returns once the SYN is queued (mpsock_subflow_open(3));
    a number of seconds waits that long for the handshake
    (mpsock_subflow_open_wait(3)), and cancels the attempt when the time
    runs out (TimeoutError); math.inf waits the longest the library
    allows (120 s).  The wait releases the GIL: from asyncio, call it in
    an executor.

    Needs a fully established connection (ENOTCONN before the peer's
    first data) created under the userspace path manager, and
    CAP_NET_ADMIN or a running mpsockd.  Errors: ConnectionRefusedError,
    TimeoutError, ConnectionResetError, PermissionError (EPERM, EACCES),
    mpsock.Error (EADDRNOTAVAIL, EADDRINUSE, ENOTCONN, EOPNOTSUPP...).
    """
    rraw, rfam = to_sockaddr(remote)
    lraw, lfam = to_sockaddr(local, rfam)
    if lfam != rfam:
        raise ValueError("local %r and remote %r are of different families" % (local, remote))
    flags = (_native.MPSOCK_OPEN_BACKUP if backup else 0) | (
        0 if bound else _native.MPSOCK_OPEN_UNBOUND
    )
    fd = fileno(sock)
    sid = ctypes.c_uint32(0)
    if wait is None:
        rc = lib.mpsock_subflow_open(fd, lraw, rraw, len(rraw), flags, ctypes.byref(sid))
        name = "mpsock_subflow_open"
    else:
        if wait < 0:
            raise ValueError("wait must be a number of seconds >= 0, or None")
        ms = -1 if wait == float("inf") else max(1, round(wait * 1000))
        rc = lib.mpsock_subflow_open_wait(
            fd, lraw, rraw, len(rraw), flags, min(ms, 0x7FFFFFFF), ctypes.byref(sid)
        )
        name = "mpsock_subflow_open_wait"
    if rc < 0:
        raise_control(name)
    return sid.value


def close_subflow(sock: SocketArg, id: int, reset: bool = False) -> None:
    """Close subflow id: gracefully (FIN), or with reset=True an RST.

    The connection goes on over its other subflows; closing the last one
    leaves it open until a new subflow is opened.  Gracefully closed, the
    initial subflow stays listed by subflows() until the peer has closed
    its side too (the kernel keeps it in the connection).  Raises
    ProcessLookupError (ESRCH) for an id that names no live subflow.
    """
    how = _native.MPTCP_SHUT_RST if reset else socket.SHUT_RDWR
    if lib.mpsock_subflow_close(fileno(sock), id, how) < 0:
        raise_control("mpsock_subflow_close")


def set_backup(sock: SocketArg, id: int, backup: bool) -> None:
    """Make subflow id a backup subflow, or a regular one (sends MP_PRIO)."""
    if lib.mpsock_subflow_set_backup(fileno(sock), id, bool(backup)) < 0:
        raise_control("mpsock_subflow_set_backup")


OptValue = Union[int, bytes, bytearray, memoryview, str]


def _pack(value: OptValue) -> bytes:
    if isinstance(value, str):
        return value.encode("ascii")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, int):
        v = int(value)
        if -(2**31) <= v < 2**31:
            return struct.pack("=i", v)
        if 0 <= v < 2**32:
            return struct.pack("=I", v)
        if 0 <= v < 2**64:
            return struct.pack("=Q", v)
        raise OverflowError("option value out of range: %d" % v)
    raise TypeError("option value must be an int, bytes or str, not %s" % type(value).__name__)


def setsockopt(sock: SocketArg, id: int, level: int, optname: int, value: OptValue) -> None:
    """setsockopt() on subflow id alone, as socket.setsockopt() takes it.

    value: an int (a C int; a 64-bit one for SO_MAX_PACING_RATE above
    2**32 - 1), bytes, or a str (TCP_CONGESTION's name).  The options are
    those of mpsock_subflow_setsockopt(3): IP_TOS, IPV6_TCLASS,
    TCP_CONGESTION, TCP_NODELAY, TCP keepalive and timeouts, SO_SNDBUF,
    SO_RCVBUF, SO_KEEPALIVE, SO_MAX_PACING_RATE (47), SO_PRIORITY,
    SO_MARK.  Raises mpsock.Error: ENOPROTOOPT for another option;
    PermissionError for what the caller could not set on a TCP socket of
    its own; ProcessLookupError for an unknown id.
    """
    raw = _pack(value)
    rc = lib.mpsock_subflow_setsockopt(fileno(sock), id, level, optname, raw, len(raw))
    if rc < 0:
        raise_control("mpsock_subflow_setsockopt")


def getsockopt(
    sock: SocketArg, id: int, level: int, optname: int, buflen: Optional[int] = None
) -> Union[int, bytes, str]:
    """getsockopt() on subflow id, as socket.getsockopt() answers it.

    Without buflen: an int for integer options, a str for
    TCP_CONGESTION, the raw struct for TCP_INFO (tcp_info() decodes it).
    With buflen: the bytes the option holds, at most buflen.
    """
    tcp_cc = level == socket.IPPROTO_TCP and optname == socket.TCP_CONGESTION
    tcp_info_opt = level == socket.IPPROTO_TCP and optname == socket.TCP_INFO
    if buflen is not None:
        size = buflen
    elif tcp_cc:
        size = 16  # TCP_CA_NAME_MAX
    elif tcp_info_opt:
        size = _native.TCP_INFO_BUFLEN
    else:
        size = ctypes.sizeof(ctypes.c_int)
    if size < 0:
        raise ValueError("negative buflen")
    buf = ctypes.create_string_buffer(max(size, 1))
    n = _native.socklen_t(size)
    rc = lib.mpsock_subflow_getsockopt(fileno(sock), id, level, optname, buf, ctypes.byref(n))
    if rc < 0:
        if tcp_info_opt:  # read in process, not a control call
            raise_call("mpsock_subflow_getsockopt", "no tcp_info for subflow %d" % id)
        raise_control("mpsock_subflow_getsockopt")
    data = buf.raw[: n.value]
    if buflen is not None or tcp_info_opt:
        return data
    if tcp_cc:
        return data.split(b"\0", 1)[0].decode("ascii", errors="replace")
    return struct.unpack("=i", data.ljust(4, b"\0")[:4])[0]


def set_mode(sock: SocketArg, mode: Union[Mode, int, str]) -> None:
    """Choose how mpsockd's path manager treats sock's connection.

    mode: a Mode, its value, or its name as mpsock(7) gives it:
    "default", "manual" (claim: the policy leaves the connection alone),
    "aggregate", "handover", "interactive".  Works before connect(): the
    socket is recognised when it connects.  Raises mpsock.Error:
    EOPNOTSUPP when sock is not MPTCP or no mpsockd serves the network
    namespace.
    """
    if isinstance(mode, str):
        try:
            mode = Mode[mode.upper()]
        except KeyError:
            names = ", ".join(m.name.lower() for m in Mode)
            raise ValueError("unknown mode %r (one of %s)" % (mode, names)) from None
    if lib.mpsock_set_mode(fileno(sock), int(mode)) < 0:
        raise_control("mpsock_set_mode")
