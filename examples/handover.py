#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make-before-break, as handover.c does it: a subflow over the new path first, established, then the old ones closed; an echo server shows that the data went on."""
# Usage: handover.py SERVER PORT LOCAL REMOTE   (the new path: LOCAL -> REMOTE)
import contextlib, errno, socket, sys, time
import mpsock

server, port, local, remote = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_MPTCP)
with contextlib.suppress(mpsock.Error):  # without mpsockd there is no policy either
    mpsock.set_mode(sock, "manual")  # mpsockd's policy leaves this connection to us
sock.connect((server, port))

def echo(data: bytes) -> None:
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        got += sock.recv(len(data) - len(got)) or sys.exit("handover: connection closed")
    if got != data:
        sys.exit("handover: the echo differs")
    print(f"{len(got)} bytes echoed intact")

echo(b"over the old path " * 1000)
old = mpsock.subflows(sock)
for attempt in range(50):  # ENOTCONN until the connection is fully established
    try:
        new = mpsock.open_subflow(sock, (local, 0), (remote, 0), wait=3)
        break
    except OSError as e:
        if e.errno != errno.ENOTCONN or attempt == 49:
            sys.exit(f"handover: {e}")
        time.sleep(0.02)
print(f"subflow {new} established over {local} -> {remote}")
for sf in old:
    mpsock.close_subflow(sock, sf.id)  # FIN; reset=True sends an RST
    print(f"subflow {sf.id} closed: {sf.local[0]} -> {sf.remote[0]}")
# a subflow closed with a FIN is listed until the peer has closed its side too
deadline = time.monotonic() + 10
while {sf.id for sf in old} & {sf.id for sf in mpsock.subflows(sock)} and time.monotonic() < deadline:
    time.sleep(0.01)
echo(b"over the new path " * 1000)
for sf in mpsock.subflows(sock):
    print(f"now: subflow {sf.id} {sf.local[0]} -> {sf.remote[0]} rtt {mpsock.tcp_info(sock, sf.id).rtt_us} us")
