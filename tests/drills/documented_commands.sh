#!/usr/bin/env bash
# Drill: every documented command, run from a fresh folder, must exit 0 with nothing on
# stderr (no warnings, no progress bar when stderr is not a terminal). Not part of the suite
# (about 10 minutes); run it by hand from the repository root after `make test` built .venv:
#
#     bash tests/drills/documented_commands.sh [DATA_DIR]      # default ../shared/data
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${1:-$ROOT/../shared/data}
A=$ROOT/.venv/bin/argnn
P=$ROOT/.venv/bin/python
S=$ROOT/scenarios
W=$(mktemp -d)
cd "$W" || exit 2
fail=0
c() {
  desc=$1; shift
  "$@" >/dev/null 2>err.txt; rc=$?
  lines=$(wc -l <err.txt)
  printf "%-24s rc=%s stderr_lines=%s %s\n" "$desc" "$rc" "$lines" "$(head -c 200 err.txt | tr '\n' '|')"
  if [ "$rc" != 0 ] || [ "$lines" != 0 ]; then fail=1; fi
}
c "run" $A run
c "run --json" $A run --json --no-save
c "sweep" $A sweep "$S/grids/xor_hidden.toml" --out sw --jobs 2
c "plot sweep" $A plot sw
c "show-default" $A show-default
c "paper_fig3 --quick" $P "$S/paper_fig3.py" --quick --jobs 2
c "paper_fig4 --quick" $P "$S/paper_fig4.py" --quick --jobs 2
c "eigen_trace --quick" $P "$S/eigen_trace.py" --quick
c "rules_compare --quick" $P "$S/rules_compare.py" --quick --jobs 2
c "async_robust --quick" $P "$S/async_robustness.py" --quick --jobs 2
c "cent_vs_dec --quick" $P "$S/centralized_vs_decentralized.py" --quick
c "gnn_compression --quick" $P "$S/gnn_compression.py" --quick --data-root "$DATA"
c "prunegcrn_sel --quick" $P "$S/prunegcrn_selection.py" --quick
c "compare --quick" $A compare --quick --out cmp
c "compress run" $A compress run --task cora-node --method global --sparsity 0.5 --quick --data-root "$DATA" --out cr
c "compress study --quick" $A compress study --quick --out cs --data-root "$DATA" --tasks cora-node
c "traffic train" $A traffic train --data synthetic --epochs 1 --hidden 8 --embed-dim 3 --out tt
for f in results/*/; do c "plot $(basename "$f")" $A plot "$f"; done
rm -rf "$W"
exit $fail
