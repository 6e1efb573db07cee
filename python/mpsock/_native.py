# SPDX-License-Identifier: LGPL-2.1-or-later
"""Finds libmpsock and describes its C ABI (functions, structs, constants) to ctypes."""

# This is the only module that knows how the C structures are laid out.
# Each ctypes mirror follows include/mpsock.h or <linux/tcp.h> field by
# field; tests/python/test-unit.py compares every offset and size with
# what the C compiler gives (the unit suite), so a change of the header
# fails the build's tests instead of silently misreading memory.

import ctypes
import os
from typing import List

try:
    from . import _config  # written by meson at install time
except ImportError:  # the source tree: no install paths
    _config = None

#: The environment variable naming the library to load (a path or a name
#: for dlopen()); when set, nothing else is tried.
ENV_LIBRARY = "MPSOCK_LIBRARY"

#: The library's soname: its ABI major.  A library of another major has
#: other structures, so it is never loaded (ctypes.util.find_library()
#: is not asked: it answers any major).
SONAME = getattr(_config, "SONAME", "libmpsock.so.0")

# include/mpsock.h
MPSOCK_SUBFLOW_BACKUP_LOCAL = 0x01
MPSOCK_SUBFLOW_BACKUP_REMOTE = 0x02
MPSOCK_SUBFLOW_FULLY_ESTABLISHED = 0x04
MPSOCK_SUBFLOW_JOINED = 0x08
MPSOCK_SUBFLOW_FLAGS_KNOWN = 0x10
MPSOCK_OPEN_BACKUP = 0x1
MPSOCK_OPEN_UNBOUND = 0x2
MPTCP_SHUT_RST = 3

socklen_t = ctypes.c_uint32


class SockaddrStorage(ctypes.Structure):
    """struct sockaddr_storage (glibc): 128 bytes, 8-byte aligned."""

    _fields_ = [
        ("ss_family", ctypes.c_ushort),
        ("ss_padding", ctypes.c_ubyte * 118),
        ("ss_align", ctypes.c_ulong),
    ]


class CSubflow(ctypes.Structure):
    """struct mpsock_subflow."""

    _fields_ = [
        ("id", ctypes.c_uint32),
        ("state", ctypes.c_uint8),
        ("local_addr_id", ctypes.c_uint8),
        ("remote_addr_id", ctypes.c_uint8),
        ("flags", ctypes.c_uint8),
        ("diag_flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
        ("local", SockaddrStorage),
        ("remote", SockaddrStorage),
    ]


class CEvent(ctypes.Structure):
    """struct mpsock_event."""

    _fields_ = [
        ("type", ctypes.c_uint32),
        ("subflow_id", ctypes.c_uint32),
        ("error", ctypes.c_uint32),
        ("lost", ctypes.c_uint32),
        ("backup", ctypes.c_uint8),
        ("addr_id", ctypes.c_uint8),
        ("reserved", ctypes.c_uint8 * 6),
        ("local", SockaddrStorage),
        ("remote", SockaddrStorage),
    ]


class CTcpInfo(ctypes.Structure):
    """struct tcp_info of <linux/tcp.h> (Linux 6.1's uapi).

    The kernel only ever appends to it; a kernel with a shorter one
    returns fewer bytes, and the fields past them are not read.
    """

    _fields_ = [
        ("tcpi_state", ctypes.c_uint8),
        ("tcpi_ca_state", ctypes.c_uint8),
        ("tcpi_retransmits", ctypes.c_uint8),
        ("tcpi_probes", ctypes.c_uint8),
        ("tcpi_backoff", ctypes.c_uint8),
        ("tcpi_options", ctypes.c_uint8),
        ("tcpi_snd_wscale", ctypes.c_uint8, 4),
        ("tcpi_rcv_wscale", ctypes.c_uint8, 4),
        ("tcpi_delivery_rate_app_limited", ctypes.c_uint8, 1),
        ("tcpi_fastopen_client_fail", ctypes.c_uint8, 2),
        ("tcpi_rto", ctypes.c_uint32),
        ("tcpi_ato", ctypes.c_uint32),
        ("tcpi_snd_mss", ctypes.c_uint32),
        ("tcpi_rcv_mss", ctypes.c_uint32),
        ("tcpi_unacked", ctypes.c_uint32),
        ("tcpi_sacked", ctypes.c_uint32),
        ("tcpi_lost", ctypes.c_uint32),
        ("tcpi_retrans", ctypes.c_uint32),
        ("tcpi_fackets", ctypes.c_uint32),
        ("tcpi_last_data_sent", ctypes.c_uint32),
        ("tcpi_last_ack_sent", ctypes.c_uint32),
        ("tcpi_last_data_recv", ctypes.c_uint32),
        ("tcpi_last_ack_recv", ctypes.c_uint32),
        ("tcpi_pmtu", ctypes.c_uint32),
        ("tcpi_rcv_ssthresh", ctypes.c_uint32),
        ("tcpi_rtt", ctypes.c_uint32),
        ("tcpi_rttvar", ctypes.c_uint32),
        ("tcpi_snd_ssthresh", ctypes.c_uint32),
        ("tcpi_snd_cwnd", ctypes.c_uint32),
        ("tcpi_advmss", ctypes.c_uint32),
        ("tcpi_reordering", ctypes.c_uint32),
        ("tcpi_rcv_rtt", ctypes.c_uint32),
        ("tcpi_rcv_space", ctypes.c_uint32),
        ("tcpi_total_retrans", ctypes.c_uint32),
        ("tcpi_pacing_rate", ctypes.c_uint64),
        ("tcpi_max_pacing_rate", ctypes.c_uint64),
        ("tcpi_bytes_acked", ctypes.c_uint64),
        ("tcpi_bytes_received", ctypes.c_uint64),
        ("tcpi_segs_out", ctypes.c_uint32),
        ("tcpi_segs_in", ctypes.c_uint32),
        ("tcpi_notsent_bytes", ctypes.c_uint32),
        ("tcpi_min_rtt", ctypes.c_uint32),
        ("tcpi_data_segs_in", ctypes.c_uint32),
        ("tcpi_data_segs_out", ctypes.c_uint32),
        ("tcpi_delivery_rate", ctypes.c_uint64),
        ("tcpi_busy_time", ctypes.c_uint64),
        ("tcpi_rwnd_limited", ctypes.c_uint64),
        ("tcpi_sndbuf_limited", ctypes.c_uint64),
        ("tcpi_delivered", ctypes.c_uint32),
        ("tcpi_delivered_ce", ctypes.c_uint32),
        ("tcpi_bytes_sent", ctypes.c_uint64),
        ("tcpi_bytes_retrans", ctypes.c_uint64),
        ("tcpi_dsack_dups", ctypes.c_uint32),
        ("tcpi_reord_seen", ctypes.c_uint32),
        ("tcpi_rcv_ooopack", ctypes.c_uint32),
        ("tcpi_snd_wnd", ctypes.c_uint32),
    ]


# room for the kernel's struct tcp_info to grow (280 bytes in 6.18)
TCP_INFO_BUFLEN = 512


def candidates() -> List[str]:
    """The libraries load() tries, in order."""
    env = os.environ.get(ENV_LIBRARY)
    if env:
        return [env]
    # LD_LIBRARY_PATH, the linker cache and default directories first, so
    # that the usual overrides work; then the libdir this package was
    # installed with, which the linker may not search (a custom prefix)
    names = [SONAME]
    libdir = getattr(_config, "LIBDIR", "")
    if libdir:
        names.append(os.path.join(libdir, SONAME))
    return names


def _prototypes(lib: ctypes.CDLL) -> None:
    c_int, c_uint, u32 = ctypes.c_int, ctypes.c_uint, ctypes.c_uint32
    vp = ctypes.c_void_p
    table = {
        "mpsock_subflow_list": (c_int, [c_int, ctypes.POINTER(CSubflow), c_uint]),
        "mpsock_subflow_get": (c_int, [c_int, u32, ctypes.POINTER(CSubflow)]),
        "mpsock_subflow_tcp_info": (c_int, [c_int, u32, vp, ctypes.POINTER(socklen_t)]),
        "mpsock_subflow_open": (c_int, [c_int, vp, vp, socklen_t, c_uint, ctypes.POINTER(u32)]),
        "mpsock_subflow_open_wait": (
            c_int,
            [c_int, vp, vp, socklen_t, c_uint, c_int, ctypes.POINTER(u32)],
        ),
        "mpsock_subflow_close": (c_int, [c_int, u32, c_int]),
        "mpsock_subflow_set_backup": (c_int, [c_int, u32, ctypes.c_bool]),
        "mpsock_subflow_setsockopt": (c_int, [c_int, u32, c_int, c_int, vp, socklen_t]),
        "mpsock_subflow_getsockopt": (
            c_int,
            [c_int, u32, c_int, c_int, vp, ctypes.POINTER(socklen_t)],
        ),
        "mpsock_events_open": (vp, [c_int]),
        "mpsock_events_fd": (c_int, [vp]),
        "mpsock_events_read": (c_int, [vp, ctypes.POINTER(CEvent)]),
        "mpsock_events_close": (None, [vp]),
        "mpsock_set_mode": (c_int, [c_int, c_int]),
        "mpsock_errmsg": (ctypes.c_char_p, []),
        "mpsock_version": (ctypes.c_char_p, []),
    }
    for name, (restype, argtypes) in table.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load() -> ctypes.CDLL:
    """Load libmpsock (see candidates()) with its prototypes set."""
    tried = []
    for name in candidates():
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError as e:
            tried.append(str(e))
            continue
        _prototypes(lib)
        return lib
    raise ImportError(
        "mpsock: cannot load libmpsock ("
        + "; ".join(tried)
        + "); install it, or name it with "
        + ENV_LIBRARY
        + "=/path/to/"
        + SONAME
    )


lib = load()
