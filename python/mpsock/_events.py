# SPDX-License-Identifier: LGPL-2.1-or-later
"""The event stream of one MPTCP connection: typed events, a blocking iterator with a timeout, and asyncio forms."""

import asyncio
import ctypes
import enum
import errno
import select
import time
import warnings
from dataclasses import dataclass
from typing import Any, Optional

from . import _native
from ._addr import Address, SocketArg, fileno, from_sockaddr
from ._errors import make_error
from ._native import lib


class EventType(enum.IntEnum):
    """enum mpsock_event_type (mpsock_events_open(3)).

    A type this module does not know (a later library's) is kept with its
    number, named UNKNOWN_<n>: ignore it.
    """

    SUBFLOW_ESTABLISHED = 1
    SUBFLOW_CLOSED = 2
    SUBFLOW_PRIORITY = 3
    ADDR_ANNOUNCED = 4
    ADDR_REMOVED = 5
    CLOSED = 6
    NO_SUBFLOW = 7
    LOST = 8

    @classmethod
    def _missing_(cls, value: object) -> "EventType":
        if not isinstance(value, int):
            return None  # type: ignore[return-value]
        member = int.__new__(cls, value)
        member._name_ = "UNKNOWN_%d" % value
        member._value_ = value
        return member


@dataclass(frozen=True)
class Event:
    """One event of a connection.

    type         an EventType
    subflow_id   SUBFLOW_*: the kernel subflow id, None when it cannot be
                 known (an attempt that failed before it was seen)
    local, remote
                 SUBFLOW_*: the subflow's (host, port); ADDR_ANNOUNCED:
                 remote is the announced address; None when not given
    error        SUBFLOW_CLOSED: the subflow's errno (ECONNREFUSED,
                 ETIMEDOUT, ECONNRESET, ECONNABORTED for a reset made
                 here), 0 when it closed gracefully
    backup       SUBFLOW_*: the subflow is a backup one
    addr_id      ADDR_*: the peer's address id
    lost         LOST: at least this many events were dropped; read the
                 subflows again with subflows()
    """

    type: EventType
    subflow_id: Optional[int]
    local: Optional[Address]
    remote: Optional[Address]
    error: int
    backup: bool
    addr_id: int
    lost: int

    @property
    def error_name(self) -> str:
        """error as a name ("ECONNABORTED"), "" for 0."""
        if not self.error:
            return ""
        if self.error == errno.EOPNOTSUPP:  # errorcode has its alias ENOTSUP
            return "EOPNOTSUPP"
        return errno.errorcode.get(self.error, str(self.error))

    @classmethod
    def _from_c(cls, c: _native.CEvent) -> "Event":
        return cls(
            type=EventType(c.type),
            subflow_id=c.subflow_id or None,
            local=from_sockaddr(c.local),
            remote=from_sockaddr(c.remote),
            error=c.error,
            backup=bool(c.backup),
            addr_id=c.addr_id,
            lost=c.lost,
        )


class Events:
    """The event stream of one connection (mpsock_events_open(3)).

    Made by events(sock, timeout).  Close it with close(), or use it as a
    context manager (``with`` or ``async with``): it holds a descriptor,
    and a netlink socket or a connection to mpsockd.

    Blocking use: iterate.  Each step waits up to timeout seconds for the
    next event (None: for ever); the iteration ends when none came in
    time, or after the CLOSED event, the stream's last.  wait() waits
    for one event, read() takes one without waiting.

    asyncio use: ``async for ev in stream`` (same timeout rule), or
    ``await stream.next(timeout)``; or, with your own loop code, watch
    fileno() with loop.add_reader() and call read() until it returns
    None: a readable descriptor does not promise an event.

    sock must stay open while events are read (the library reads the
    subflows from it); the stream keeps a reference to it.  The CLOSED
    event comes after the application closed the socket.

    Read events promptly: the library names an event's subflow when the
    event is read, from the subflows the stream has seen and those the
    connection still has; an event read after its subflow is gone (a
    SUBFLOW_ESTABLISHED read after the subflow was closed) may have
    subflow_id None.
    """

    def __init__(self, sock: SocketArg, timeout: Optional[float] = None) -> None:
        fd = fileno(sock)
        self._handle: Optional[int] = None
        handle = lib.mpsock_events_open(fd)
        if not handle:
            # mpsock_events_open() leaves mpsock_errmsg() alone
            raise make_error(
                ctypes.get_errno(),
                "mpsock_events_open",
                "cannot follow the events of this connection",
            )
        self._handle = handle
        self._fd = lib.mpsock_events_fd(handle)
        self._sock = sock  # the library reads the subflows from it
        self._done = False
        self.timeout = timeout

    # -- the stream --

    def _check(self) -> int:
        if self._handle is None:
            raise ValueError("I/O operation on a closed mpsock event stream")
        return self._handle

    @property
    def closed(self) -> bool:
        """The stream was closed."""
        return self._handle is None

    def fileno(self) -> int:
        """The descriptor to watch for readability (poll, asyncio)."""
        self._check()
        return self._fd

    def read(self) -> Optional[Event]:
        """The next event now, or None when there is none (never blocks)."""
        c = _native.CEvent()
        if lib.mpsock_events_read(self._check(), ctypes.byref(c)) < 0:
            err = ctypes.get_errno()
            if err in (errno.EAGAIN, errno.EWOULDBLOCK):
                return None
            msg = "mpsockd went away" if err == errno.ECONNRESET else ""
            raise make_error(err, "mpsock_events_read", msg)
        return Event._from_c(c)

    def wait(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The next event, waiting up to timeout seconds (None: for ever).

        Returns None when none came in time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        poller = select.poll()
        poller.register(self.fileno(), select.POLLIN)
        while True:
            # the library may hold events already (NO_SUBFLOW follows
            # SUBFLOW_CLOSED): read before polling
            ev = self.read()
            if ev is not None:
                return ev
            if deadline is None:
                ms = None
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                ms = max(1, int(left * 1000 + 0.999))
            poller.poll(ms)

    def close(self) -> None:
        """End the stream and free it (mpsock_events_close(3)); idempotent."""
        handle, self._handle = self._handle, None
        self._sock = None
        if handle is not None:
            lib.mpsock_events_close(handle)

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            warnings.warn("unclosed %r" % self, ResourceWarning, source=self)
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else "fd=%d" % self._fd
        return "<mpsock.Events %s timeout=%r>" % (state, self.timeout)

    # -- blocking iteration --

    def __enter__(self) -> "Events":
        self._check()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __iter__(self) -> "Events":
        return self

    def __next__(self) -> Event:
        if self._done:
            raise StopIteration
        ev = self.wait(self.timeout)
        if ev is None:
            raise StopIteration
        self._done = ev.type == EventType.CLOSED
        return ev

    # -- asyncio --

    async def next(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The next event, awaiting up to timeout seconds (None: for ever).

        Returns None when none came in time.  Uses loop.add_reader(): the
        running loop must support it (the default loop on Linux does).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        fd = self.fileno()
        while True:
            ev = self.read()
            if ev is not None:
                return ev
            readable = loop.create_future()
            loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
            try:
                if deadline is None:
                    await readable
                else:
                    left = deadline - loop.time()
                    if left <= 0:
                        return None
                    try:
                        await asyncio.wait_for(readable, left)
                    except asyncio.TimeoutError:
                        return None
            finally:
                loop.remove_reader(fd)

    def __aiter__(self) -> "Events":
        return self

    async def __anext__(self) -> Event:
        if self._done:
            raise StopAsyncIteration
        ev = await self.next(self.timeout)
        if ev is None:
            raise StopAsyncIteration
        self._done = ev.type == EventType.CLOSED
        return ev

    async def __aenter__(self) -> "Events":
        self._check()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()


def events(sock: SocketArg, timeout: Optional[float] = None) -> Events:
    """Follow the events of sock's MPTCP connection from now on.

    ::

        with mpsock.events(sock, timeout=5) as stream:
            for ev in stream:          # ends after 5 s without an event
                print(ev.type.name, ev.subflow_id, ev.local, ev.remote)

        async with mpsock.events(sock, timeout=5) as stream:
            async for ev in stream:
                ...

    sock must be a connected MPTCP socket.  Without CAP_NET_ADMIN the
    events come through mpsockd, which forwards only this connection's.
    Raises mpsock.Error: EOPNOTSUPP (not MPTCP), ENOTCONN (not
    connected), PermissionError (no mpsockd and no CAP_NET_ADMIN).
    """
    return Events(sock, timeout)
