# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test client driven by commands on stdin, as mpsock-ctl is, but through the Python package: one answer line per command, for shell tests to check against ss."""

# Usage: pyctl.py HOST PORT   ($PYCTL_MODE: set_mode() before connect)
# Prints "connected" once connected, then answers each command:
#   echo                            one echo round trip: ok bytes=5
#   list                            "sf id=N state=S local=A:P remote=A:P
#                                   backup=B bl=B br=B e=B j=B" lines,
#                                   then ok count=N
#   fdlist                          subflows() of the descriptor equals
#                                   subflows() of the socket: ok count=N
#   tcpinfo ID                      ok state=S rtt_us=N ... (TcpInfo)
#   open LOCAL REMOTE [backup] [unbound] [wait SECS]
#                                   ok id=N (LOCAL: A:P, [A6]:P or any)
#   close ID [rst]                  ok
#   backup ID 0|1                   ok
#   sso ID tos|cc VALUE             setsockopt on one subflow: ok
#   sgo ID tos|cc                   ok value=V
#   mode NAME                       set_mode(): ok
#   evopen SECS                     events(sock, timeout=SECS): ok
#   evnext                          next(stream): an "ev ..." line, then
#                                   ok (ok none: the iteration ended)
#   evwait                          iterate it: "ev ..." lines, then
#                                   ok events=N idle=SECS (the wait that
#                                   ended the iteration)
#   evclose                         close it: ok fd_closed=1
#   aevents LOCAL REMOTE SECS       asyncio, anext() and async for: a
#                                   subflow LOCAL->REMOTE opens, its
#                                   event is taken, it is reset, the
#                                   rest taken: ev lines, ok id=N events=N
#   areader LOCAL REMOTE SECS       the same with loop.add_reader()
#   atransport HOST PORT            a connection made by asyncio, its
#                                   transport's socket: ok count=N
#                                   remote=A:P bytes=5
#   nottcp HOST PORT                subflows() of a plain TCP connection
#   quit
# Errors: "err ERRNO_NAME CLASS mpsock.Error|plain message=MESSAGE", CLASS
# the Python builtin class of the exception (ProcessLookupError, OSError).

import asyncio
import errno
import os
import socket
import sys
import time

import mpsock

IPPROTO_MPTCP = getattr(socket, "IPPROTO_MPTCP", 262)
OPTS = {
    "tos": (socket.IPPROTO_IP, socket.IP_TOS),
    "cc": (socket.IPPROTO_TCP, socket.TCP_CONGESTION),
}


def say(line):
    print(line, flush=True)


def addr(text):
    """A:P, [A6]:P or any (None)."""
    if text == "any":
        return None
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def fmt(a):
    if a is None:
        return "-"
    host, port = a
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def ev_line(ev):
    return "ev type=%s id=%s local=%s remote=%s backup=%d error=%s" % (
        ev.type.name,
        ev.subflow_id,
        fmt(ev.local),
        fmt(ev.remote),
        ev.backup,
        errname(ev.error) if ev.error else "0",
    )


def errname(num):
    # errno.errorcode names 95 ENOTSUP, its alias: say it as the man pages do
    return "EOPNOTSUPP" if num == errno.EOPNOTSUPP else errno.errorcode.get(num, str(num))


def err_line(e):
    if isinstance(e, OSError):
        builtin = next(c for c in type(e).__mro__ if c.__module__ == "builtins")
        return "err %s %s %s message=%s" % (
            errname(e.errno),
            builtin.__name__,
            "mpsock.Error" if isinstance(e, mpsock.Error) else "plain",
            getattr(e, "message", ""),
        )
    return "err %s %s" % (type(e).__name__, e)


def b(v):
    return "-" if v is None else int(v)


async def async_events(sock, local, remote, secs, reader):
    """Open a subflow, take its SUBFLOW_ESTABLISHED, reset it, take the rest.

    The library names the subflow of an event by looking it up when the
    event is read: an event read after its subflow is gone has no id.
    """
    loop = asyncio.get_running_loop()
    got = []
    async with mpsock.events(sock, timeout=secs) as stream:
        if reader:
            queue = asyncio.Queue()

            def readable():
                while True:
                    ev = stream.read()
                    if ev is None:
                        return
                    queue.put_nowait(ev)

            loop.add_reader(stream.fileno(), readable)

            async def take():
                try:
                    return await asyncio.wait_for(queue.get(), secs)
                except asyncio.TimeoutError:
                    return None

        else:

            async def take():
                return await anext(stream, None)

        try:
            sid = await loop.run_in_executor(
                None, lambda: mpsock.open_subflow(sock, local, remote, wait=3)
            )
            got.append(await take())
            await loop.run_in_executor(None, lambda: mpsock.close_subflow(sock, sid, reset=True))
            while True:
                ev = await take()
                if ev is None:
                    break
                got.append(ev)
        finally:
            if reader:
                loop.remove_reader(stream.fileno())
    return sid, [ev for ev in got if ev is not None]


async def via_transport(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    # connected before asyncio takes it: its resolver would ask getaddrinfo()
    # for protocol 262, which it does not know
    s.connect((host, port))
    s.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=s)
    writer.write(b"hello")
    data = await reader.readexactly(5)
    tsock = writer.transport.get_extra_info("socket")
    sfs = mpsock.subflows(tsock)
    writer.close()
    await writer.wait_closed()
    return sfs, len(data)


def run(sock, words, state):
    cmd = words[0]
    if cmd == "echo":
        sock.sendall(b"hello")
        got = b""
        while len(got) < 5:
            chunk = sock.recv(5 - len(got))
            if not chunk:
                return "err EOF"
            got += chunk
        return "ok bytes=%d" % len(got)
    if cmd == "list":
        sfs = mpsock.subflows(sock)
        for sf in sfs:
            say(
                "sf id=%d state=%s local=%s remote=%s backup=%s bl=%s br=%s e=%s j=%s lid=%s rid=%s"
                % (sf.id, sf.state.name, fmt(sf.local), fmt(sf.remote), b(sf.backup),
                   b(sf.backup_local), b(sf.backup_remote), b(sf.fully_established), b(sf.joined),
                   b(sf.local_addr_id), b(sf.remote_addr_id))
            )
        return "ok count=%d" % len(sfs)
    if cmd == "fdlist":
        a, c = mpsock.subflows(sock), mpsock.subflows(sock.fileno())
        return "ok count=%d" % len(a) if a == c else "err DIFFER %r %r" % (a, c)
    if cmd == "tcpinfo":
        ti = mpsock.tcp_info(sock, int(words[1]))
        return "ok state=%s rtt_us=%d rttvar_us=%d cwnd=%d snd_mss=%d pmtu=%d bytes_sent=%s bytes_acked=%s bytes_received=%s total_retrans=%d delivery_rate=%s" % (
            ti.state.name, ti.rtt_us, ti.rttvar_us, ti.cwnd, ti.snd_mss, ti.pmtu,
            ti.bytes_sent, ti.bytes_acked, ti.bytes_received, ti.total_retrans, ti.delivery_rate)
    if cmd == "open":
        rest = words[3:]
        wait = float(rest[rest.index("wait") + 1]) if "wait" in rest else None
        sid = mpsock.open_subflow(sock, addr(words[1]), addr(words[2]), backup="backup" in rest,
                                  wait=wait, bound="unbound" not in rest)
        return "ok id=%d" % sid
    if cmd == "close":
        mpsock.close_subflow(sock, int(words[1]), reset="rst" in words[2:])
        return "ok"
    if cmd == "backup":
        mpsock.set_backup(sock, int(words[1]), words[2] == "1")
        return "ok"
    if cmd == "sso":
        level, opt = OPTS[words[2]]
        value = words[3] if words[2] == "cc" else int(words[3], 0)
        mpsock.setsockopt(sock, int(words[1]), level, opt, value)
        return "ok"
    if cmd == "sgo":
        level, opt = OPTS[words[2]]
        return "ok value=%s" % mpsock.getsockopt(sock, int(words[1]), level, opt)
    if cmd == "mode":
        mpsock.set_mode(sock, words[1])
        return "ok"
    if cmd == "evopen":
        state["events"] = mpsock.events(sock, timeout=float(words[1]))
        return "ok"
    if cmd == "evnext":
        ev = next(state["events"], None)
        if ev is None:
            return "ok none"
        say(ev_line(ev))
        return "ok"
    if cmd == "evwait":
        count, last = 0, time.monotonic()
        for ev in state["events"]:
            say(ev_line(ev))
            count, last = count + 1, time.monotonic()
        return "ok events=%d idle=%.2f" % (count, time.monotonic() - last)
    if cmd == "evclose":
        stream = state.pop("events")
        with stream:  # leaving the block closes it
            fd = stream.fileno()
        try:
            os.fstat(fd)
            gone = 0
        except OSError as e:
            gone = int(e.errno == errno.EBADF)
        return "ok fd_closed=%d" % (gone and stream.closed)
    if cmd in ("aevents", "areader"):
        sid, got = asyncio.run(async_events(sock, addr(words[1]), addr(words[2]), float(words[3]),
                                            cmd == "areader"))
        for ev in got:
            say(ev_line(ev))
        return "ok id=%d events=%d" % (sid, len(got))
    if cmd == "atransport":
        sfs, n = asyncio.run(via_transport(words[1], int(words[2])))
        first = min(sfs, key=lambda sf: sf.id, default=None)
        return "ok count=%d remote=%s bytes=%d" % (len(sfs), fmt(first.remote) if first else "-", n)
    if cmd == "nottcp":
        with socket.create_connection((words[1], int(words[2]))) as t:
            mpsock.subflows(t)
        return "ok"
    return "err unknown command " + cmd


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    mode = os.environ.get("PYCTL_MODE")
    if mode:
        mpsock.set_mode(sock, mode)
    sock.connect((host, port))
    say("connected")
    state = {}
    for line in iter(sys.stdin.readline, ""):
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        try:
            say(run(sock, words, state))
        except Exception as e:  # every failure is an answer
            say(err_line(e))
    if "events" in state:
        state["events"].close()
    sock.close()


if __name__ == "__main__":
    main()
