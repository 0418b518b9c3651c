"""Drill: the faults a long study meets, against the real commands.

    python tests/drills/faults.py [--short] [--data DIR] [--seed N] [--keep DIR]

For each long command (a sweep, both comparisons, the compression study, the traffic
comparison and γ study, a scenario script) it runs, in fresh folders:

* **Ctrl-C**: an uninterrupted run for reference; then SIGINT to the process group at random
  moments, each followed by the same command again, until it finishes. Each interrupt must end
  the command within 5 s with exit status 130, one line on stderr and no traceback, leave no
  live process of its group, and the finished table must equal the reference. One more try
  sends a second SIGINT right after the first: it must end at once, still without a traceback.
* **A full disk** (``ulimit -f``): the command stops with one line naming the errno and exit
  status 2, no unit file is half-written, and without the limit it resumes to the same table.
* **Two processes on one folder**: a second command on a folder in use is refused at once
  with one line; a lock left by a process that is gone is taken over.
* **Damaged unit files**: a truncated, a non-JSON and an other-version unit file are each
  named in one line, moved to ``quarantine/`` and run again; the table equals the reference.
  A damaged settings file is refused with one line.

It prints a table (fault, command, tries, clean) and exits 1 when anything was not clean.
``--short`` is what CI runs (the sweep and the traffic comparison, fewer tries).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
GRID = """name = "drill"
seeds = 6
[base]
schedule = { inputs = 400 }
record = { traces = "prunes" }
[axes]
"network.hidden" = [1, 2, 3]
[axes.mode]
D = { "pruning.mode" = "D" }
none = { "pruning.policy" = "none" }
"""


def commands(data: str, work: Path) -> dict[str, dict[str, object]]:
    """name -> argv template ({out}), the extra arguments a resume needs, the table file and
    the columns compared (None: the whole file)."""
    (work / "drill.toml").write_text(GRID)
    argnn = [PY, "-m", "argnn_sim"]
    return {
        "sweep": {"argv": argnn + ["sweep", str(work / "drill.toml"), "--out", "{out}",
                                   "--jobs", "2"], "resume": ["--resume"],
                  "table": "summary.csv", "settings": "grid.json", "units": "runs"},
        "traffic compare": {"argv": argnn + ["traffic", "compare", "--data", "synthetic",
                                             "--quick", "--out", "{out}", "--jobs", "2"],
                            "table": "summary.csv", "settings": "compare.json",
                            "units": "runs"},
        "traffic gammas": {"argv": argnn + ["traffic", "gammas", "--data", "synthetic",
                                            "--gammas", "0.5,0.25", "--random-seeds", "2",
                                            "--epochs", "2", "--hidden", "8", "--embed-dim",
                                            "2", "--out", "{out}"], "table": "gamma.csv",
                           "settings": "gamma.json", "units": "runs"},
        "compare (logic)": {"argv": argnn + ["compare", "--quick", "--out", "{out}",
                                             "--jobs", "2"], "table": "summary.csv",
                            "settings": "config.json", "units": "units"},
        "compare (road)": {"argv": argnn + ["compare", "--network", "sz_taxi", "--data-root",
                                            data, "--quick", "--no-async", "--jobs", "2",
                                            "--out", "{out}"], "table": "summary.csv",
                           "settings": "config.json", "units": "runs"},
        "compress study": {"argv": argnn + ["compress", "study", "--quick", "--tasks",
                                            "cora-node", "--data-root", data, "--out",
                                            "{out}"], "resume": ["--resume"],
                           "table": "results.csv",
                           "columns": ["task", "model", "seed", "method", "sparsity", "bits",
                                       "metric", "params", "nonzero"],
                           "settings": "study.json", "units": "units"},
        "scenario rules_compare": {"argv": [PY, str(ROOT / "scenarios" / "rules_compare.py"),
                                            "--quick", "--out", "{out}", "--jobs", "2"],
                                   "table": "rules_summary.csv"},
    }


def _env() -> dict[str, str]:
    return {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}


def _start(argv: list[str], out: Path, limit: int | None = None) -> subprocess.Popen[str]:
    def pre() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal's foreground job has it
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    args = [a.replace("{out}", str(out)) for a in argv]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=pre, cwd=ROOT,
                            env=_env())


def _alive(pgid: int) -> list[str]:
    """Live (not zombie) processes of a process group."""
    out = subprocess.run(["ps", "-eo", "pgid=,stat=,pid=,args="], capture_output=True,
                         text=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[0] == str(pgid) and not parts[1].startswith("Z"):
            rows.append(line.strip())
    return rows


def _finish(cmd: dict[str, object], out: Path, resume: bool) -> subprocess.CompletedProcess[str]:
    argv = list(cmd["argv"]) + (list(cmd.get("resume", [])) if resume else [])  # type: ignore
    p = _start(argv, out)
    _, err = p.communicate(timeout=1800)
    return subprocess.CompletedProcess(argv, p.returncode, "", err)


def _table(cmd: dict[str, object], out: Path) -> list[dict[str, str]]:
    path = out / str(cmd["table"])
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cols = cmd.get("columns")
    if cols:
        return [{k: r[k] for k in cols} for r in rows]  # type: ignore[union-attr]
    # timings differ from run to run; everything else must be the same
    return [{k: v for k, v in r.items() if "seconds" not in k and "time" not in k}
            for r in rows]


def _started(p: subprocess.Popen[str], out: Path, limit: float = 60.0) -> None:
    """Wait until the command has claimed its folder (its ``.lock``: the interpreter is up
    and argnn's Ctrl-C handling installed), or has ended. A SIGINT sent while a loaded
    machine is still starting the interpreter kills it by the signal's default, before any
    program could handle it; that is not what the drill tests."""
    t0 = time.monotonic()
    while p.poll() is None and time.monotonic() - t0 < limit:
        try:
            if json.loads((out / ".lock").read_text()).get("pid") == p.pid:
                return
        except (OSError, ValueError, AttributeError):
            pass
        time.sleep(0.02)


def drill_interrupts(name: str, cmd: dict[str, object], work: Path, tries: int,
                     rng: random.Random, ref_seconds: float, ref: list[dict[str, str]]
                     ) -> tuple[int, list[str]]:
    problems: list[str] = []
    out = work / f"int-{name.replace(' ', '_')}"
    done = 0
    for i in range(tries):
        p = _start(list(cmd["argv"]) + (list(cmd.get("resume", [])) if i else []), out)  # type: ignore
        _started(p, out)
        time.sleep(rng.uniform(0.5, max(1.0, 0.8 * ref_seconds)))
        if p.poll() is not None:  # finished before the signal: nothing to interrupt
            p.communicate()
            break
        twice = i == tries - 1
        t0 = time.monotonic()
        os.killpg(p.pid, signal.SIGINT)
        if twice:
            time.sleep(0.1)
            try:
                os.killpg(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _, err = p.communicate()
            problems.append(f"try {i}: still running 10 s after SIGINT")
            continue
        dt = time.monotonic() - t0
        if p.returncode == 0 and not err.strip() and dt < 1.0:
            # it finished its last unit as the signal came (alive at poll(), done at once):
            # nothing was left to interrupt; a command that ignored Ctrl-C would run on
            break
        time.sleep(1.0)
        left = _alive(p.pid)
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        if dt > 5:
            problems.append(f"try {i}: ended {dt:.1f} s after SIGINT")
        if p.returncode != 130:
            problems.append(f"try {i}: exit status {p.returncode}")
        if "Traceback" in err or len(lines) > (2 if twice else 1):
            problems.append(f"try {i}: stderr {err.strip()[:300]!r}")
        if left:
            problems.append(f"try {i}: left {left}")
        done += 1
    r = _finish(cmd, out, resume=True)
    if r.returncode != 0:
        problems.append(f"resume: exit {r.returncode}: {r.stderr.strip()[-300:]}")
    elif _table(cmd, out) != ref:
        problems.append("resume: the table differs from the uninterrupted run's")
    return done, problems


def _units(cmd: dict[str, object], out: Path) -> list[Path]:
    folder = out / str(cmd.get("units", "runs"))
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def drill_disk_full(cmd: dict[str, object], work: Path, ref: list[dict[str, str]]
                    ) -> list[str]:
    problems = []
    out = work / f"disk-full-{cmd['slug']}"
    p = _start(list(cmd["argv"]), out, limit=3000)  # type: ignore
    _, err = p.communicate(timeout=1800)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if p.returncode != 2 or len(lines) != 1 or "EFBIG" not in err or "Traceback" in err:
        problems.append(f"limited: exit {p.returncode}, stderr {err.strip()[:300]!r}")
    for f in _units(cmd, out):
        try:
            json.loads(f.read_text())
        except ValueError:
            problems.append(f"half-written unit {f.name}")
    r = _finish(cmd, out, resume=True)
    if r.returncode != 0:
        problems.append(f"resume: exit {r.returncode}: {r.stderr.strip()[-300:]}")
    elif _table(cmd, out) != ref:
        problems.append("resume: the table differs")
    return problems


def drill_two_processes(cmd: dict[str, object], work: Path) -> list[str]:
    problems = []
    out = work / f"two-{cmd['slug']}"
    a = _start(list(cmd["argv"]), out)  # type: ignore
    t0 = time.monotonic()
    while not (out / ".lock").exists() and time.monotonic() - t0 < 60 and a.poll() is None:
        time.sleep(0.1)
    b = _start(list(cmd["argv"]) + list(cmd.get("resume", [])), out)  # type: ignore
    t1 = time.monotonic()
    _, err = b.communicate(timeout=60)
    if b.returncode != 2 or "in use by process" not in err or time.monotonic() - t1 > 10:
        problems.append(f"second: exit {b.returncode}, stderr {err.strip()[:300]!r}")
    if a.poll() is None:
        os.killpg(a.pid, signal.SIGINT)
    a.communicate(timeout=30)
    # a lock whose process is gone is stale
    dead = subprocess.Popen(["true"])
    dead.wait()
    (out / ".lock").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename,
                                           "since": time.time()}))
    r = _finish(cmd, out, resume=True)
    if r.returncode != 0:
        problems.append(f"stale lock: exit {r.returncode}: {r.stderr.strip()[-300:]}")
    return problems


def drill_damaged(cmd: dict[str, object], work: Path, ref: list[dict[str, str]],
                  settings: str) -> list[str]:
    problems = []
    out = work / f"damaged-{cmd['slug']}"
    r = _finish(cmd, out, resume=False)
    units = _units(cmd, out)
    if r.returncode != 0 or len(units) < 2:
        return [f"first run: exit {r.returncode}, {len(units)} units"]
    # another store version, truncated, not JSON: as many of these as there are units
    rec = json.loads(units[0].read_text())
    rec["store_version"] = 99
    units[0].write_text(json.dumps(rec))
    units[1].write_text(units[1].read_text()[: len(units[1].read_text()) // 2])
    if len(units) > 2:
        units[2].write_text("this is not JSON")
    n = min(3, len(units))
    r = _finish(cmd, out, resume=True)
    named = [ln for ln in r.stderr.splitlines() if "was damaged" in ln]
    if r.returncode != 0 or len(named) != n:
        problems.append(f"resume: exit {r.returncode}, stderr {r.stderr.strip()[:400]!r}")
    if len(list((out / "quarantine").glob("*"))) != n:
        problems.append(f"quarantine/ does not hold the {n} damaged files")
    elif _table(cmd, out) != ref:
        problems.append("the table differs after the damaged units ran again")
    (out / settings).write_text("{ not json")
    r = _finish(cmd, out, resume=True)
    if r.returncode != 2 or len(r.stderr.strip().splitlines()) != 1:
        problems.append(f"damaged settings: exit {r.returncode}, {r.stderr.strip()[:300]!r}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--short", action="store_true", help="the CI form")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="work in this folder and keep it")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="argnn-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    cmds = commands(args.data, work)
    names = ["sweep", "traffic compare"] if args.short else list(cmds)
    tries = 2 if args.short else 4  # the full form: at least 20 interrupts in all
    for name, cmd in cmds.items():
        cmd["slug"] = name.replace(" ", "_").replace("(", "").replace(")", "")
    rows: list[tuple[str, str, int, str]] = []
    for name in names:
        cmd = cmds[name]
        t0 = time.monotonic()
        r = _finish(cmd, work / f"ref-{cmd['slug']}", resume=False)
        seconds = time.monotonic() - t0
        if r.returncode != 0:
            rows.append(("reference run", name, 1, f"NO: {r.stderr.strip()[-200:]}"))
            continue
        ref = _table(cmd, work / f"ref-{cmd['slug']}")
        n, problems = drill_interrupts(name, cmd, work, tries, rng, seconds, ref)
        rows.append(("Ctrl-C (and twice)", name, n, "yes" if not problems else
                     "NO: " + "; ".join(problems)))
    # the store's faults: the sweep in the short form, every command with a store in the full
    for name in names:
        cmd = cmds[name]
        if not cmd.get("settings") or not (work / f"ref-{cmd['slug']}").is_dir():
            continue
        ref = _table(cmd, work / f"ref-{cmd['slug']}")
        for fault, problems in (
                ("full disk (ulimit -f)", drill_disk_full(cmd, work, ref)),
                ("two processes, stale lock", drill_two_processes(cmd, work)),
                ("damaged units and settings",
                 drill_damaged(cmd, work, ref, str(cmd["settings"])))):
            rows.append((fault, name, 1, "yes" if not problems else "NO: " + "; ".join(problems)))
        if args.short:
            break
    width = max(len(r[0]) for r in rows)
    cw = max(len(r[1]) for r in rows)
    print(f"{'fault'.ljust(width)}  {'command'.ljust(cw)}  tries  clean")
    for fault, name, n, clean in rows:
        print(f"{fault.ljust(width)}  {name.ljust(cw)}  {n:5d}  {clean}")
    print(f"interrupts delivered: {sum(r[2] for r in rows if r[0].startswith('Ctrl-C'))}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r[3] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
