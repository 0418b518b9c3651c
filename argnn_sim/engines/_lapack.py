"""NumPy's own LAPACK ``dgeev``, called from compiled code.

The spectral rules decide on the eigenvalues of star Laplacians, which the SimPy engine gets
from NumPy's ``eigvals`` gufunc: LAPACK's ``dgeev`` (no eigenvectors) on a column-major copy
of each matrix, with the workspace its query asks for. The compiled engine's host used to
call that gufunc on stacks of kept checks; each call from Python costs more than the
eigenvalues of a small star. Here the kernel calls the very same ``dgeev`` in the very
same library, the one NumPy's ``_umath_linalg`` loaded, with the same arguments, so the
values are the same bit for bit on any CPU: it is the same machine code on the same input.

How it is found: the shared libraries of this process (``/proc/self/maps``, Linux) are
searched for the symbols NumPy's builds use (``scipy_dgeev_64_`` in NumPy's wheels,
``dgeev_64_``, ``dgeev_``); a name ending in ``64_`` takes 64-bit integers. Before first use
:func:`geev` checks itself against the gufunc on a fixed set of matrices (random ones and
star Laplacians, sizes 1 to 12, rounding-hard ones included) and compares every real and
imaginary part exactly; if anything differs, or no library is found (macOS, Windows, a NumPy
built on another LAPACK), it returns ``None`` and the engine keeps using the gufunc.

The call goes through an address given at run time (:func:`call_geev`, an LLVM intrinsic),
so the compiled kernel stays in numba's cache: the library's address changes per process.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["Geev", "geev", "call_geev", "geev_into", "geev_values", "Workspace"]

SYMBOLS = ("scipy_dgeev_64_", "dgeev_64_", "scipy_dgeev_", "dgeev_")


@intrinsic
def call_geev(typingctx: Any, fn: Any, jobvl: Any, jobvr: Any, n: Any, a: Any, lda: Any,
              wr: Any, wi: Any, vl: Any, ldvl: Any, vr: Any, ldvr: Any, work: Any,
              lwork: Any, info: Any) -> Any:
    """``dgeev(jobvl, jobvr, n, a, lda, wr, wi, vl, ldvl, vr, ldvr, work, lwork, info)`` at
    address ``fn``; every argument is an address (Fortran passes everything by reference),
    as NumPy's ``_umath_linalg`` calls it (no hidden string lengths)."""
    args = (fn, jobvl, jobvr, n, a, lda, wr, wi, vl, ldvl, vr, ldvr, work, lwork, info)
    if not all(isinstance(x, types.Integer) for x in args):
        return None
    sig = types.void(*args)

    def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
        ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [ptr] * 14)
        target = builder.inttoptr(llargs[0], fnty.as_pointer())
        builder.call(target, [builder.inttoptr(x, ptr) for x in llargs[1:]])
        return context.get_dummy_value()

    return sig, codegen


_jit: Any = njit(cache=True, _nrt=False)  # type: ignore[call-overload]
_inline: Any = njit(cache=True, _nrt=False, inline="always")  # type: ignore[call-overload]


@_inline
def geev_into(fn, L, lo, n, wr, wi, ints, chars, a, work, lwork_of):
    """Eigenvalues of the row-major ``n x n`` matrix ``L[lo:lo + n * n]`` by LAPACK's
    ``dgeev`` at address ``fn``, as NumPy's ``eigvals`` gufunc calls it: jobs ``N``, ``N``, a
    column-major copy, the workspace length its query gives for this ``n``. Returns
    ``info``, or -1 when ``work`` is shorter than that length (``lwork_of[n]``)."""
    isz = ints.itemsize
    pi = ints.ctypes.data
    pc = chars.ctypes.data
    ints[0] = n
    ints[1] = max(1, n)
    ints[2] = 1
    ints[3] = 1
    ints[5] = 0
    if lwork_of[n] == 0:  # the workspace query, as the gufunc makes it once per call
        ints[4] = -1
        call_geev(fn, pc, pc + 1, pi, a.ctypes.data, pi + isz, wr.ctypes.data,
                          wi.ctypes.data, work.ctypes.data, pi + 2 * isz, work.ctypes.data,
                          pi + 3 * isz, work.ctypes.data, pi + 4 * isz, pi + 5 * isz)
        if ints[5] != 0:
            return ints[5]
        lwork_of[n] = max(1, np.int64(work[0]))
    if lwork_of[n] > work.size:
        return -1
    for i in range(n):
        for j in range(n):
            a[i + j * n] = L[lo + i * n + j]
    ints[4] = lwork_of[n]
    call_geev(fn, pc, pc + 1, pi, a.ctypes.data, pi + isz, wr.ctypes.data,
                      wi.ctypes.data, work.ctypes.data, pi + 2 * isz, work.ctypes.data,
                      pi + 3 * isz, work.ctypes.data, pi + 4 * isz, pi + 5 * isz)
    return ints[5]


@_jit
def geev_values(fn, L, n, wr, wi, ints, chars, a, work, lwork_of):
    """:func:`geev_into` on one matrix (the self-check of :mod:`._lapack`)."""
    return geev_into(fn, L, 0, n, wr, wi, ints, chars, a, work, lwork_of)


class Geev:
    """The located routine: its address and the width of its integers."""

    def __init__(self, address: int, int_dtype: type, path: str, name: str) -> None:
        self.address = address
        self.int_dtype = int_dtype
        self.path = path
        self.name = name

    def __repr__(self) -> str:
        return f"Geev({self.name} in {self.path})"


def _loaded_libraries() -> list[str]:
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = {line.split()[-1] for line in fh if ".so" in line and "/" in line}
    except OSError:
        return []
    # NumPy's own libraries first (its wheels bundle OpenBLAS in numpy.libs)
    return sorted(paths, key=lambda p: ("numpy" not in p, "blas" not in p and "lapack" not in p, p))


def _locate() -> Geev | None:
    import numpy.linalg  # noqa: F401  (loads the library NumPy's gufuncs call)

    for path in _loaded_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in SYMBOLS:
            try:
                fn = getattr(lib, name)
            except AttributeError:
                continue
            address = ctypes.cast(fn, ctypes.c_void_p).value
            if address:
                return Geev(int(address), np.int64 if name.endswith("64_") else np.int32,
                            path, name)
    return None


def _test_matrices() -> list[np.ndarray]:
    """Matrices the self-check runs: random, rank-deficient, with conjugate pairs, and star
    Laplacians (the rules' input), sizes 1 to 12."""
    from ..spectral import make_star, plan_laplacian

    g = np.random.default_rng(20261130)  # fixed: a check of the library, not of a run
    out = []
    for m in range(1, 13):
        for _ in range(12):
            out.append(g.standard_normal((m, m)))
        rot = np.zeros((m, m))
        for i in range(m):
            rot[i, (i + 1) % m] = 1.0  # a cycle: eigenvalues on the unit circle
        out.append(rot)
        out.append(np.ones((m, m)))
        if m >= 2:
            for _ in range(8):
                k_in = int(g.integers(1, m))
                ins = list(range(1, k_in + 1))
                outs = sorted(g.choice(np.arange(1, m + 1), size=m - k_in, replace=False).tolist())
                star = make_star(0, ins, outs)
                size = len(star.ids)
                w_in = (g.standard_normal(len(ins)) * 3).tolist()
                w_out = (g.standard_normal(len(outs)) * 3).tolist()
                for mode in ("D", "DW"):
                    out.append(np.asarray(plan_laplacian(star.plan, w_in, w_out, mode),
                                          dtype=np.float64).reshape(size, size))
    return out


@functools.lru_cache(maxsize=1)
def geev() -> Geev | None:
    """NumPy's ``dgeev``, checked against NumPy's gufunc, or ``None`` (then use the gufunc).

    Returns
    -------
    Geev or None
    """
    try:
        found = _locate()
        if found is None:
            return None
        from numpy.linalg import _umath_linalg as ul

        mats = _test_matrices()
        for L in mats:
            n = L.shape[0]
            want = ul.eigvals(L, signature="d->D")
            wr = np.zeros(n)
            wi = np.zeros(n)
            ws = Workspace(found, n)
            info = -1
            while info == -1:  # -1: the workspace asked for is longer than ``work``
                info = geev_values(found.address, L.ravel().copy(), n, wr, wi, ws.ints,
                                     ws.chars, ws.a, ws.work, ws.lwork_of)
                if info == -1:
                    ws.work = np.zeros(2 * int(ws.lwork_of[n]))
            if info != 0 or not (np.array_equal(wr, want.real) and
                                 np.array_equal(wi, want.imag)):
                return None
        return found
    except Exception:  # pragma: no cover - any surprise: the gufunc path stays
        return None


class Workspace:
    """What :func:`~argnn_sim.engines._kernel.geev_values` needs besides the matrix: the
    integer arguments (of the routine's width), the two job letters, a column-major copy
    of the matrix, the work array and each size's workspace length (0: not asked yet)."""

    def __init__(self, found: Geev, max_n: int) -> None:
        self.ints: np.ndarray = np.zeros(8, dtype=found.int_dtype)
        self.chars = np.frombuffer(b"NN\0\0\0\0\0\0", dtype=np.uint8).copy()
        self.a = np.zeros(max(1, max_n * max_n))
        self.work = np.zeros(max(256, 64 * max_n))
        self.lwork_of = np.zeros(max_n + 1, dtype=np.int64)
