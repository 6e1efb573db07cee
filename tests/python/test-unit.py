# SPDX-License-Identifier: LGPL-2.1-or-later
"""Unprivileged tests of the Python package: ctypes layouts against the C compiler's, errors, addresses, lookup, help()."""

# Usage: test-unit.py LAYOUT-PROGRAM   (TAP on stdout)

import ctypes
import errno
import os
import pickle
import pydoc
import socket
import subprocess
import sys
import warnings

import mpsock
from mpsock import _addr, _errors, _native, _subflows

n = 0
failed = 0


def check(name, ok, detail=""):
    global n, failed
    n += 1
    if ok:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        for line in str(detail).splitlines():
            print("# " + line)


def raises(fn, exc, test=lambda e: True):
    """fn() raises exc and test(e) holds; returns (bool, what happened)."""
    try:
        fn()
    except exc as e:
        return bool(test(e)), "%s: %s" % (type(e).__name__, e)
    except BaseException as e:  # noqa: B902 - report anything else
        return False, "%s: %s" % (type(e).__name__, e)
    return False, "no exception"


# -- layouts: every field ctypes reads, where the C compiler has it --

c_lines = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
c_size, c_field, c_const = {}, {}, {}
c_bits = c_version = None
for line in c_lines.splitlines():
    w = line.split()
    if w[0] == "sizeof":
        c_size[w[1]] = int(w[2])
    elif w[0] == "field":
        c_field[w[1]] = (int(w[2]), int(w[3]))
    elif w[0] == "const":
        c_const[w[1]] = int(w[2])
    elif w[0] == "bits":
        c_bits = (int(w[2]), int(w[3]))
    elif w[0] == "version":
        c_version = w[1]

mirrors = {
    "sockaddr_storage": _native.SockaddrStorage,
    "mpsock_subflow": _native.CSubflow,
    "mpsock_event": _native.CEvent,
    "tcp_info": _native.CTcpInfo,
}
for cname, cls in mirrors.items():
    check(
        "sizeof(struct %s) %d == ctypes %s %d"
        % (cname, c_size.get(cname, -1), cls.__name__, ctypes.sizeof(cls)),
        c_size.get(cname) == ctypes.sizeof(cls),
    )
    bad, unchecked = [], []
    for f in cls._fields_:
        name = f[0]
        if len(f) == 3:  # a bit-field: checked by value below
            continue
        if cname == "sockaddr_storage" and name != "ss_family":
            continue  # glibc's padding, private
        key = "%s.%s" % (cname, name)
        if key not in c_field:
            unchecked.append(name)
            continue
        desc = getattr(cls, name)
        if (desc.offset, desc.size) != c_field[key]:
            bad.append("%s: ctypes %d+%d, C %d+%d" % ((key, desc.offset, desc.size) + c_field[key]))
    check("struct %s: every ctypes field at C's offset and size" % cname, not bad, "\n".join(bad))
    check("struct %s: no ctypes field left unchecked" % cname, not unchecked, " ".join(unchecked))

ti = _native.CTcpInfo.from_buffer_copy(
    bytes(6) + bytes(c_bits) + bytes(ctypes.sizeof(_native.CTcpInfo) - 8)
)
check(
    "tcp_info bit-fields decode as gcc laid them out",
    (ti.tcpi_snd_wscale, ti.tcpi_rcv_wscale, ti.tcpi_delivery_rate_app_limited, ti.tcpi_fastopen_client_fail)
    == (3, 7, 1, 2),
    "bytes 6, 7: %r" % (c_bits,),
)

consts = {
    "MPSOCK_SUBFLOW_BACKUP_LOCAL": _native.MPSOCK_SUBFLOW_BACKUP_LOCAL,
    "MPSOCK_SUBFLOW_BACKUP_REMOTE": _native.MPSOCK_SUBFLOW_BACKUP_REMOTE,
    "MPSOCK_SUBFLOW_FULLY_ESTABLISHED": _native.MPSOCK_SUBFLOW_FULLY_ESTABLISHED,
    "MPSOCK_SUBFLOW_JOINED": _native.MPSOCK_SUBFLOW_JOINED,
    "MPSOCK_SUBFLOW_FLAGS_KNOWN": _native.MPSOCK_SUBFLOW_FLAGS_KNOWN,
    "MPSOCK_OPEN_BACKUP": _native.MPSOCK_OPEN_BACKUP,
    "MPSOCK_OPEN_UNBOUND": _native.MPSOCK_OPEN_UNBOUND,
    "MPTCP_SHUT_RST": _native.MPTCP_SHUT_RST,
}
for t in mpsock.EventType:
    consts["MPSOCK_EVENT_" + t.name] = t.value
for m in mpsock.Mode:
    consts["MPSOCK_MODE_" + m.name] = m.value
bad = ["%s: C %s, Python %s" % (k, c_const.get(k), v) for k, v in consts.items() if c_const.get(k) != v]
check("constants and enums equal the header's", not bad, "\n".join(bad))
check(
    "every constant the C side printed is mirrored",
    set(c_const) == set(consts),
    " ".join(sorted(set(c_const) ^ set(consts))),
)
check(
    "__version__ %s is mpsock_version() %s" % (mpsock.__version__, c_version),
    mpsock.__version__ == c_version,
)

# -- sockets that are not MPTCP connections --

tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ok, what = raises(
    lambda: mpsock.subflows(tcp),
    mpsock.Error,
    lambda e: isinstance(e, OSError) and e.errno == errno.EOPNOTSUPP and e.function == "mpsock_subflow_list",
)
check("TCP socket: subflows() raises mpsock.Error, an OSError, EOPNOTSUPP (%s)" % what, ok)
ok, what = raises(
    lambda: mpsock.set_mode(tcp, "manual"),
    mpsock.Error,
    lambda e: e.errno == errno.EOPNOTSUPP and e.message == "not an MPTCP socket",
)
check("TCP socket: set_mode() EOPNOTSUPP with mpsock_errmsg() (%s)" % what, ok)
ok, what = raises(lambda: mpsock.events(tcp), OSError, lambda e: e.errno == errno.EOPNOTSUPP)
check("TCP socket: events() EOPNOTSUPP (%s)" % what, ok)

mp = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
check("unconnected MPTCP socket: no subflows", mpsock.subflows(mp) == [])
check("the same through a plain descriptor", mpsock.subflows(mp.fileno()) == [])
ok, what = raises(lambda: mpsock.events(mp), OSError, lambda e: e.errno == errno.ENOTCONN)
check("unconnected: events() ENOTCONN (%s)" % what, ok)
ok, what = raises(
    lambda: mpsock.tcp_info(mp, 1),
    mpsock.Error,
    lambda e: e.message and e.function == "mpsock_subflow_tcp_info",
)
check("unconnected: tcp_info() raises with a message (%s)" % what, ok)
closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
fd = closed.detach()
os.close(fd)
ok, what = raises(lambda: mpsock.subflows(fd), mpsock.Error, lambda e: e.errno == errno.EBADF)
check("closed descriptor: EBADF (%s)" % what, ok)
tcp.close()
mp.close()

# -- arguments --

ok, what = raises(lambda: mpsock.subflows("eth0"), TypeError)
check("a str is not a socket: TypeError (%s)" % what, ok)
ok, what = raises(lambda: mpsock.open_subflow(3, ("10.0.0.1", 0), ("fd00::1", 0)), ValueError)
check("open_subflow() with two families: ValueError (%s)" % what, ok)
ok, what = raises(lambda: mpsock.open_subflow(3, None, ("example.org", 0)), ValueError)
check("open_subflow() with a host name: ValueError (%s)" % what, ok)
ok, what = raises(lambda: mpsock.open_subflow(3, None, ("10.0.0.1", 70000)), ValueError)
check("port out of range: ValueError (%s)" % what, ok)
ok, what = raises(lambda: mpsock.set_mode(3, "fast"), ValueError, lambda e: "handover" in str(e))
check("set_mode() of an unknown name lists the names (%s)" % what, ok)
ok, what = raises(lambda: mpsock.open_subflow(3, None, "10.0.0.1", wait=-1), ValueError)
check("a negative wait: ValueError (%s)" % what, ok)
ok, what = raises(lambda: mpsock.setsockopt(3, 1, 0, 1, 1.5), TypeError)
check("a float option value: TypeError (%s)" % what, ok)
check(
    "option values packed as socket.setsockopt() packs them",
    _subflows._pack(184) == (184).to_bytes(4, sys.byteorder)
    and _subflows._pack(-1) == b"\xff" * 4
    and _subflows._pack(2**32 - 1) == b"\xff" * 4
    and len(_subflows._pack(2**40)) == 8
    and _subflows._pack("reno") == b"reno"
    and _subflows._pack(b"\x01") == b"\x01",
)

# -- addresses --

raw, fam = _addr.to_sockaddr(("10.0.2.2", 5201))
ss = _native.SockaddrStorage.from_buffer_copy(raw.ljust(128, b"\0"))
check(
    "IPv4 sockaddr round trip",
    fam == socket.AF_INET and len(raw) == 16 and _addr.from_sockaddr(ss) == ("10.0.2.2", 5201),
)
raw, fam = _addr.to_sockaddr(("fd00:2::2", 80, 0, 0))
ss = _native.SockaddrStorage.from_buffer_copy(raw.ljust(128, b"\0"))
check(
    "IPv6 sockaddr round trip",
    fam == socket.AF_INET6 and len(raw) == 28 and _addr.from_sockaddr(ss) == ("fd00:2::2", 80),
)
raw, fam = _addr.to_sockaddr("fe80::1%1")
ss = _native.SockaddrStorage.from_buffer_copy(raw.ljust(128, b"\0"))
check(
    "a scope id survives: %s" % (_addr.from_sockaddr(ss),),
    _addr.from_sockaddr(ss) == ("fe80::1%" + socket.if_indextoname(1), 0),
)
raw, fam = _addr.to_sockaddr(None, socket.AF_INET6)
check("None is the family's wildcard", fam == socket.AF_INET6 and raw[8:24] == bytes(16))
check("an empty sockaddr is None", _addr.from_sockaddr(_native.SockaddrStorage()) is None)

# -- errors --

e = _errors.make_error(errno.ESRCH, "mpsock_subflow_close", "no subflow 9")
check(
    "ESRCH: ProcessLookupError and mpsock.Error, errno and message (%s)" % e,
    isinstance(e, ProcessLookupError)
    and isinstance(e, mpsock.Error)
    and e.errno == errno.ESRCH
    and str(e) == "[Errno 3] No such process: no subflow 9 (mpsock_subflow_close)",
)
check("EPERM: PermissionError", isinstance(_errors.make_error(errno.EPERM, "f"), PermissionError))
check("EACCES: PermissionError", isinstance(_errors.make_error(errno.EACCES, "f"), PermissionError))
check("ETIMEDOUT: TimeoutError", isinstance(_errors.make_error(errno.ETIMEDOUT, "f"), TimeoutError))
check(
    "ECONNREFUSED: ConnectionRefusedError",
    isinstance(_errors.make_error(errno.ECONNREFUSED, "f"), ConnectionRefusedError),
)
e = _errors.make_error(errno.EOPNOTSUPP, "f")
check("EOPNOTSUPP: mpsock.Error exactly", type(e) is mpsock.Error)
e2 = pickle.loads(pickle.dumps(_errors.make_error(errno.ESRCH, "f", "m")))
check(
    "errors pickle",
    isinstance(e2, ProcessLookupError) and isinstance(e2, mpsock.Error) and e2.errno == errno.ESRCH,
)

# -- enums and decoding --

check("an unknown event type keeps its number", mpsock.EventType(99).name == "UNKNOWN_99")
check("an unknown TCP state keeps its number", int(mpsock.TcpState(42)) == 42)
short = _subflows._tcp_info_from(b"\x01" + bytes(135))  # to tcpi_bytes_received
check(
    "a short tcp_info: the fields past it are None",
    short.state == mpsock.TcpState.ESTABLISHED
    and short.delivery_rate is None
    and short.bytes_sent is None
    and short.bytes_acked is not None,
)

# -- events object --

check("Events has fileno(), a context manager and an async iterator",
      all(hasattr(mpsock.Events, a) for a in ("fileno", "__enter__", "__exit__", "__aiter__", "__anext__",
                                               "__aenter__", "__aexit__", "__iter__", "__next__")))
with warnings.catch_warnings():
    warnings.simplefilter("error")
    ev = mpsock.Events.__new__(mpsock.Events)
    ev._handle = None
    ok, what = raises(lambda: ev.read(), ValueError)
check("a closed stream refuses reads (%s)" % what, ok)

# -- the library lookup --

env = dict(os.environ, MPSOCK_LIBRARY="/nonexistent/libmpsock.so.0")
r = subprocess.run([sys.executable, "-c", "import mpsock"], env=env, capture_output=True, text=True)
check(
    "MPSOCK_LIBRARY naming nothing: ImportError that names the variable",
    r.returncode != 0 and "ImportError" in r.stderr and "MPSOCK_LIBRARY" in r.stderr,
    r.stderr,
)
env = dict(os.environ)
env.pop("MPSOCK_LIBRARY", None)
env["LD_LIBRARY_PATH"] = os.path.dirname(os.environ["MPSOCK_LIBRARY"])
r = subprocess.run(
    [sys.executable, "-c", "import mpsock, mpsock._native as n; print(mpsock.__version__, n.candidates()[0])"],
    env=env,
    capture_output=True,
    text=True,
)
check(
    "without MPSOCK_LIBRARY: the soname through LD_LIBRARY_PATH (%s)" % r.stdout.strip(),
    r.returncode == 0 and r.stdout.split() == [c_version, "libmpsock.so.0"],
    r.stderr,
)

# -- help() --

text = pydoc.render_doc(mpsock, renderer=pydoc.plaintext)
missing = [name for name in mpsock.__all__ if name != "Address" and name not in text]
check("help(mpsock) documents every public name", not missing, " ".join(missing))
undocumented = [name for name in mpsock.__all__ if name != "Address" and not getattr(mpsock, name).__doc__]
check("every public name has a docstring", not undocumented, " ".join(undocumented))
check("public classes are mpsock's in help()", mpsock.Subflow.__module__ == "mpsock")

print("1..%d" % n)
sys.exit(1 if failed else 0)
