#!/usr/bin/env bash
# The GPU session (bench/gpu_run.py) on a machine that reaches no package index.
# It runs with the first Python that has torch with CUDA, plus this project's core
# dependencies (numpy, scipy, simpy, networkx, matplotlib, tqdm, threadpoolctl): a carried
# .venv-gpu/ (built on a like machine: python -m venv .venv-gpu && .venv-gpu/bin/pip
# install -e .[bridge]), else the system python. It names what is missing instead of
# failing half-way. Arguments go to bench/gpu_run.py (e.g. --budget-s 400).
set -euo pipefail
cd "$(dirname "$0")/.."
for py in .venv-gpu/bin/python python3 python; do
    command -v "$py" >/dev/null 2>&1 || [ -x "$py" ] || continue
    if "$py" - <<'PY' 2>/dev/null; then PY="$py"; break; fi
import torch, sys
sys.exit(0 if torch.cuda.is_available() else 1)
PY
done
if [ -z "${PY:-}" ]; then
    echo "gpu_run: no Python with a CUDA torch found (tried .venv-gpu, python3, python)" >&2
    exit 2
fi
missing=$("$PY" - <<'PY'
import importlib.util as u
need = ["numpy", "scipy", "simpy", "networkx", "matplotlib", "tqdm", "threadpoolctl"]
print(" ".join(m for m in need if u.find_spec(m) is None))
PY
)
if [ -n "$missing" ]; then
    echo "gpu_run: $PY lacks: $missing; carry a .venv-gpu/ that has them" >&2
    exit 2
fi
export MPLBACKEND=Agg PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c "import torch; print('using', torch.__version__, torch.cuda.get_device_name(0))"
timeout 470 "$PY" bench/gpu_run.py "$@"
