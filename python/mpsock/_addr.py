# SPDX-License-Identifier: LGPL-2.1-or-later
"""Socket arguments and addresses: descriptors from socket objects, (host, port) tuples to and from sockaddrs."""

import ctypes
import socket
import struct
from typing import Any, Optional, Tuple, Union

from ._native import SockaddrStorage

#: An endpoint as the socket module writes it: (host, port), host numeric.
Address = Tuple[str, int]

#: What open_subflow() takes for an endpoint: a (host, port) tuple, an
#: IPv6 (host, port, flowinfo, scope_id) tuple, or a host alone (port 0).
AddressArg = Union[str, Tuple[Any, ...]]

#: A socket: anything with fileno(), or a file descriptor.
SocketArg = Any


def fileno(sock: SocketArg) -> int:
    """The descriptor of sock: an int, or whatever sock.fileno() returns.

    socket.socket, the socket of an asyncio transport
    (transport.get_extra_info("socket")), and any object with fileno()
    qualify.
    """
    if isinstance(sock, int) and not isinstance(sock, bool):
        return sock
    get = getattr(sock, "fileno", None)
    if get is None:
        raise TypeError(
            "expected a socket (an object with fileno()) or a file "
            "descriptor, not %s" % type(sock).__name__
        )
    fd = get()
    if not isinstance(fd, int):
        raise TypeError("%s.fileno() returned %r" % (type(sock).__name__, fd))
    return fd


def _host_port(addr: AddressArg) -> Tuple[str, int, int, int]:
    """host, port, flowinfo, scope_id of an endpoint argument."""
    if isinstance(addr, str):
        return addr, 0, 0, 0
    if isinstance(addr, tuple) and len(addr) in (2, 4):
        host, port = str(addr[0]), addr[1]
        flow, scope = (addr[2], addr[3]) if len(addr) == 4 else (0, 0)
        if not all(isinstance(v, int) for v in (port, flow, scope)):
            raise TypeError("port, flowinfo and scope_id must be ints: %r" % (addr,))
        if not 0 <= port <= 0xFFFF:
            raise ValueError("port out of range: %r" % (addr,))
        return host, port, flow, scope
    raise TypeError(
        "expected a host string or a (host, port) tuple, not %r" % (addr,)
    )


def _family(host: str) -> int:
    for fam in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(fam, host.split("%", 1)[0])
            return fam
        except OSError:
            pass
    raise ValueError("not a numeric IPv4 or IPv6 address: %r" % host)


def to_sockaddr(addr: Optional[AddressArg], family: int = 0) -> Tuple[bytes, int]:
    """A sockaddr_in or sockaddr_in6 for addr, and its family.

    None is the wildcard address of family (port 0).  A host with
    "%SCOPE" (an interface name or index) sets an IPv6 scope id.
    """
    if addr is None:
        host, port, flow, scope = (
            "::" if family == socket.AF_INET6 else "0.0.0.0",
            0,
            0,
            0,
        )
    else:
        host, port, flow, scope = _host_port(addr)
    fam = _family(host)
    if fam == socket.AF_INET:
        packed = socket.inet_pton(fam, host)
        return struct.pack("=H", fam) + struct.pack("!H", port) + packed + bytes(8), fam
    host, _, zone = host.partition("%")
    if zone:
        scope = int(zone) if zone.isdigit() else socket.if_nametoindex(zone)
    packed = socket.inet_pton(fam, host)
    raw = (
        struct.pack("=H", fam)
        + struct.pack("!HI", port, flow)
        + packed
        + struct.pack("=I", scope)
    )
    return raw, fam


def from_sockaddr(ss: SockaddrStorage) -> Optional[Address]:
    """(host, port) of a sockaddr_storage; None when it holds no address.

    An IPv6 scope id shows as "%NAME" (or "%INDEX") after the host, as
    getaddrinfo() accepts it.
    """
    raw = ctypes.string_at(ctypes.addressof(ss), ctypes.sizeof(ss))
    if ss.ss_family == socket.AF_INET:
        (port,) = struct.unpack_from("!H", raw, 2)
        return socket.inet_ntop(socket.AF_INET, raw[4:8]), port
    if ss.ss_family == socket.AF_INET6:
        (port,) = struct.unpack_from("!H", raw, 2)
        host = socket.inet_ntop(socket.AF_INET6, raw[8:24])
        (scope,) = struct.unpack_from("=I", raw, 24)
        if scope:
            try:
                host += "%" + socket.if_indextoname(scope)
            except OSError:
                host += "%" + str(scope)
        return host, port
    return None
