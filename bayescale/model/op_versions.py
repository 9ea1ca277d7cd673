"""Cache versions of custom Ops' numba code, from their source.

Examples
--------
>>> def kernel(x):
...     return x + 1
>>> source_version(kernel) == source_version(kernel)
True
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any


def source_version(*objects: Any) -> int:
    """A cache version for a custom Op's numba implementation, from its source code.

    PyTensor keys the numba cache of an Op registered with
    :func:`~pytensor.link.numba.dispatch.basic.register_funcify_default_op_cache_key`
    by the Op's type and props and the integer the dispatch function returns, not
    by the implementation's code: after an edit of the kernel, a stale compiled
    version would be loaded from the cache (by PyTensor, and so by the callbacks
    here). Return this number with the implementation so that every edit is a new
    cache entry::

        @register_funcify_default_op_cache_key(MyOp)
        def _numba_my_op(op, node=None, **kwargs):
            return my_kernel, source_version(my_kernel, _helper)

    Parameters
    ----------
    *objects : function, class or module
        Everything whose source the compiled code depends on (numba dispatchers
        are read through their ``py_func``).

    Returns
    -------
    int
        A 63-bit number that changes when any of the sources changes.
    """
    digest = hashlib.sha256()
    for obj in objects:
        digest.update(inspect.getsource(getattr(obj, "py_func", obj)).encode())
    return int.from_bytes(digest.digest()[:8], "big") >> 1
