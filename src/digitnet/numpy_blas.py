"""numpy's own BLAS, as threadpoolctl sees it: the OpenBLAS numpy's wheels carry (ILP64, symbols with
a `scipy_` prefix). The compiled training steps call its products by name (compiled_kernels.py);
inference reads its thread count and its kernels' machine (fast_inference.py)."""

from __future__ import annotations

import functools


@functools.cache
def numpy_openblas():
    """threadpoolctl's controller of numpy's OpenBLAS (`.filepath`, `.architecture`,
    `.get_num_threads()`), or None when numpy uses another BLAS. Found once a process."""
    from threadpoolctl import ThreadpoolController

    for library in ThreadpoolController().select(internal_api="openblas").lib_controllers:
        if "numpy" in library.filepath:
            return library
    return None
