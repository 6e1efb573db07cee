# SPDX-License-Identifier: LGPL-2.1-or-later
"""mpsock.Error and the errno-mapped exceptions raised for libmpsock's failures."""

import ctypes
import errno as _errno
import os
from typing import Dict, NoReturn, Type

from ._native import lib


class Error(OSError):
    """A libmpsock call failed.

    An OSError with the call's errno.  Where Python has an OSError
    subclass for that errno, the exception is also an instance of it
    (ProcessLookupError for ESRCH, PermissionError for EPERM and EACCES,
    TimeoutError for ETIMEDOUT, ConnectionRefusedError for ECONNREFUSED,
    ...), so both ``except ProcessLookupError`` and ``except mpsock.Error``
    catch it.

    Attributes, beside errno and strerror:

    message
        Why it failed, in words: mpsock_errmsg(3) for the control calls
        (the kernel's or mpsockd's explanation), else a description of
        the call; may be "".
    function
        The C function that failed, e.g. "mpsock_subflow_close".
    """

    message = ""
    function = ""

    def __str__(self) -> str:
        text = "[Errno %s] %s" % (self.errno, self.strerror)
        if self.message:
            text += ": " + self.message
        if self.function:
            text += " (%s)" % self.function
        return text


# one class per Python OSError subclass, made on first use: "class
# ProcessLookupError(mpsock.Error, builtins.ProcessLookupError)"
_classes: Dict[type, Type[Error]] = {}


def error_class(err: int) -> Type[Error]:
    """The exception class for errno err."""
    base = type(OSError(err, ""))
    if base is OSError:
        return Error
    cls = _classes.get(base)
    if cls is None:
        cls = type(
            base.__name__,
            (Error, base),
            {
                "__module__": __name__,
                "__doc__": "mpsock.Error that is also a %s." % base.__name__,
            },
        )
        # a module attribute, so that pickle finds it
        globals()[base.__name__] = cls
        _classes[base] = cls
    return cls


def make_error(err: int, function: str, message: str = "") -> Error:
    """An Error for errno err raised by function."""
    if err <= 0:
        # a C call that failed without errno: never expected, say so
        err = _errno.EIO
        message = message or "failed without an errno"
    e = error_class(err)(err, os.strerror(err))
    e.message = message
    e.function = function
    return e


def raise_control(function: str) -> NoReturn:
    """Raise for a failed control call: errno and mpsock_errmsg()."""
    err = ctypes.get_errno()
    raw = lib.mpsock_errmsg()
    raise make_error(err, function, raw.decode(errors="replace") if raw else "")


def raise_call(function: str, message: str = "") -> NoReturn:
    """Raise for a failed call that sets no mpsock_errmsg()."""
    raise make_error(ctypes.get_errno(), function, message)
