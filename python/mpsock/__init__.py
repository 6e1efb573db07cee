# SPDX-License-Identifier: LGPL-2.1-or-later
"""The enhanced Multipath TCP socket API of libmpsock, for Python.

List, inspect, open and close the subflows of your own MPTCP connections,
change their backup priority, set socket options on one subflow, choose
how mpsockd's path manager treats a connection, and follow a connection's
events.  See mpsock(7) for what happens underneath.

    import socket, mpsock

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_MPTCP)
    s.connect(("10.0.1.1", 5201))
    for sf in mpsock.subflows(s):
        print(sf.id, sf.local, "->", sf.remote, "backup" if sf.backup else "")
    print(mpsock.tcp_info(s, 1).rtt_us)
    new = mpsock.open_subflow(s, ("10.0.2.2", 0), ("10.0.1.1", 0), wait=3)
    mpsock.close_subflow(s, 1)                 # FIN; reset=True for RST
    mpsock.setsockopt(s, new, socket.IPPROTO_IP, socket.IP_TOS, 0xb8)

Sockets: every function takes a socket.socket of protocol IPPROTO_MPTCP
(262), any object with fileno() (the socket of an asyncio transport:
transport.get_extra_info("socket")), or a file descriptor.

Subflow ids are the kernel's (1 for the initial subflow, never reused in
a connection), as mpsock_subflow_list(3) gives them.  Addresses are
(host, port) tuples with numeric hosts.

Privileges: reading (subflows, tcp_info) needs none.  Control calls need
CAP_NET_ADMIN, or go through mpsockd(8), the broker of the network
namespace, which acts only on the caller's own connection.  Subflow
control needs the namespace's "userspace" path manager.

Errors: a failed call raises mpsock.Error, an OSError carrying errno and
mpsock's explanation (message: mpsock_errmsg(3) for control calls).
Where Python has an errno subclass it is one too: ProcessLookupError for
an unknown subflow id (ESRCH), PermissionError (EPERM, EACCES),
TimeoutError, ConnectionRefusedError, ConnectionResetError.  A socket
that is not MPTCP, or fell back to TCP, gives errno EOPNOTSUPP.  Wrong
argument types or malformed addresses raise TypeError or ValueError.

Events: events(sock, timeout) gives an Events stream, a context manager;
iterate it (each step waits up to timeout), or use it from asyncio
(async for, await stream.next(), or loop.add_reader(stream.fileno())).

The library: the package loads libmpsock with ctypes: the library named
by the environment variable MPSOCK_LIBRARY if set (a path; nothing else
is tried then); otherwise the soname libmpsock.so.0 the way the dynamic
linker finds it (LD_LIBRARY_PATH, its cache), then in the libdir this
package was installed with.  Why ctypes and not a C extension: the
package needs no compiler and no build per Python version, and only this
soname, whose major changes with any change of the structures, is ever
loaded; the structures are mirrored in mpsock._native, and a test of the
build compares every offset and size with the C header's.

mpsock.__version__ is the loaded library's mpsock_version(3).
"""

from ._addr import Address
from ._errors import Error
from ._events import Event, Events, EventType, events
from ._native import lib as _lib
from ._subflows import (
    Mode,
    Subflow,
    TcpInfo,
    TcpState,
    close_subflow,
    getsockopt,
    open_subflow,
    set_backup,
    set_mode,
    setsockopt,
    subflow,
    subflows,
    tcp_info,
)

#: The loaded libmpsock's version (mpsock_version(3)).
__version__: str = _lib.mpsock_version().decode()

__all__ = [
    "Address",
    "Error",
    "Event",
    "EventType",
    "Events",
    "Mode",
    "Subflow",
    "TcpInfo",
    "TcpState",
    "close_subflow",
    "events",
    "getsockopt",
    "open_subflow",
    "set_backup",
    "set_mode",
    "setsockopt",
    "subflow",
    "subflows",
    "tcp_info",
]

# help() and reprs name the package, where users find them
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
