"""Run the exactness tests again under the other CPU kernels this machine can switch to.

    python tests/other_kernels.py          # what `make test` (and so CI) runs after pytest

The reference arithmetic calls NumPy's ``exp`` ufunc and BLAS ``ddot``, whose kernels
depend on the CPU: NumPy dispatches AVX-512 kernels where the CPU has them, and OpenBLAS
picks a kernel by CPU (``OPENBLAS_CORETYPE`` overrides it; its SkylakeX kernels fuse
multiply and add, its Haswell kernels do not). The tests marked ``exactness`` compare the
engines with each other and with the published program restated in the tests, bit for
bit, on the machine at hand; running them a second time with the other kernels makes both
paths run wherever the suite runs:

* NumPy's AVX-512 kernels switched off (``NPY_DISABLE_CPU_FEATURES``) when the CPU has them;
* OpenBLAS's Haswell kernels forced (``OPENBLAS_CORETYPE=Haswell``) on an x86-64 CPU with
  AVX2 and FMA, unless the environment already forces them, then SkylakeX where the CPU
  has AVX-512. Under the Haswell kernels (those the stored golden runs were made with) the
  golden-run test must reproduce every stored run (``ARGNN_GOLDEN_STRICT=1``).

On a CPU with neither, there is nothing to switch and it says so. Exit status: pytest's.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

AVX512_OFF = "X86_V4 AVX512_ICL AVX512_SPR"


def cpu_features() -> dict[str, bool]:
    """NumPy's view of this CPU (empty if this NumPy does not expose it)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # pragma: no cover - another NumPy layout
        return {}
    return dict(__cpu_features__)


def variant(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the second pass: what to switch on this CPU (may be empty)."""
    env = dict(os.environ if env is None else env)
    f = cpu_features()
    out: dict[str, str] = {}
    if f.get("X86_V4") or f.get("AVX512F"):
        out["NPY_DISABLE_CPU_FEATURES"] = AVX512_OFF
    if platform.machine().lower() in ("x86_64", "amd64") and f.get("AVX2") and f.get("FMA3"):
        if env.get("OPENBLAS_CORETYPE", "").lower() != "haswell":
            out["OPENBLAS_CORETYPE"] = "Haswell"
            out["ARGNN_GOLDEN_STRICT"] = "1"
        elif f.get("AVX512F"):
            out["OPENBLAS_CORETYPE"] = "SkylakeX"
    return out


def main() -> int:
    extra = variant()
    if not extra:
        print("other_kernels: this CPU has no other NumPy or OpenBLAS kernels to switch to; "
              "nothing to run")
        return 0
    print("other_kernels: the exactness tests again with "
          + ", ".join(f"{k}={v}" for k, v in extra.items()), flush=True)
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "pytest", "-n", "auto", "-m", "exactness", "-q", "-p",
           "no:cacheprovider",
           "--no-header", "tests"]
    return subprocess.run(cmd, cwd=root, env={**os.environ, **extra}).returncode


if __name__ == "__main__":
    sys.exit(main())
