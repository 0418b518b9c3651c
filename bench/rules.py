"""Compare pruning rules on the logic circuit: edges removed and error, per mode and seed.

Usage: python bench/rules.py [--hidden 4] [--seeds 3] [--out bench/rules.json]
"""

from __future__ import annotations

import argparse
import json

from argnn_sim import Scenario, simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hidden", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--gate", default="XOR")
    ap.add_argument("--out", default="bench/rules.json")
    args = ap.parse_args()
    variants = [("none", "DW", "reference"), ("spectral", "D", "reference"),
                ("spectral", "D", "local"), ("spectral", "DW", "reference"),
                ("spectral", "DW", "local")]
    rows = []
    print(f"{args.gate}, h = {args.hidden}, 2000 inputs x 10 passes, sweep schedule")
    print(f"{'policy':<9}{'mode':<5}{'rule':<10}{'seed':>4}{'pruned':>8}{'edges':>7}{'error':>9}")
    for policy, mode, rule in variants:
        for seed in range(args.seeds):
            sc = Scenario.from_dict({"task": {"gate": args.gate},
                                     "network": {"hidden": args.hidden},
                                     "pruning": {"policy": policy, "mode": mode, "rule": rule},
                                     "record": {"traces": "none"}})
            r = simulate(sc, seed=seed)
            row = {"policy": policy, "mode": mode, "rule": rule, "seed": seed,
                   "pruned": len(r.prune_events), "edges": r.edges_before, "error": r.error}
            rows.append(row)
            shown = "-" if policy == "none" else mode
            print(f"{policy:<9}{shown:<5}{rule if policy != 'none' else '-':<10}{seed:>4}"
                  f"{row['pruned']:>8}{row['edges']:>7}{row['error']:>9.4f}")
    with open(args.out, "w") as fh:
        json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
