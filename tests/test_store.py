"""argnn_sim.store and the faults a long command meets: locks, damaged units, failed writes,
Ctrl-C (the drill's short form, against the real commands)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from argnn_sim import store as S
from argnn_sim.store import FolderBusy, Store, StoreError

ROOT = Path(__file__).resolve().parents[1]


def test_units_are_written_read_and_resumed(tmp_path: Path) -> None:
    calls = []

    def job(x: int) -> dict[str, int]:
        calls.append(x)
        return {"x": x * x}

    with Store(tmp_path / "s", "demo", settings={"a": 1}) as st:
        got = st.run([(f"k{i}", job, (i,)) for i in range(4)])
    assert got == {f"k{i}": {"x": i * i} for i in range(4)} and calls == [0, 1, 2, 3]
    with Store(tmp_path / "s", "demo", settings={"a": 1}) as st:
        assert st.run([(f"k{i}", job, (i,)) for i in range(5)])["k4"] == {"x": 16}
    assert calls == [0, 1, 2, 3, 4]  # only the missing unit ran
    assert not (tmp_path / "s" / ".lock").exists()  # released
    raw = json.loads((tmp_path / "s" / "runs" / "k1.json").read_text())
    assert raw["store_version"] == S.STORE_VERSION


def test_other_settings_and_a_damaged_settings_file_are_refused(tmp_path: Path) -> None:
    Store(tmp_path / "s", "demo", settings={"a": 1}).close()
    with pytest.raises(StoreError, match=r"other settings \(a\); choose another --out"):
        Store(tmp_path / "s", "demo", settings={"a": 2})
    (tmp_path / "s" / "settings.json").write_text("{ not json")
    with pytest.raises(StoreError, match="is damaged"):
        Store(tmp_path / "s", "demo", settings={"a": 1})


def test_a_folder_in_use_is_refused_and_a_stale_lock_taken_over(tmp_path: Path) -> None:
    Store(tmp_path / "s", "demo").close()
    host = os.uname().nodename
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "s" / ".lock").write_text(json.dumps({"pid": holder.pid, "host": host,
                                                          "since": 0}))
        with pytest.raises(FolderBusy, match=f"in use by process {holder.pid}"):
            Store(tmp_path / "s", "demo")
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale
    with Store(tmp_path / "s", "demo") as st:
        assert json.loads((st.folder / ".lock").read_text())["pid"] == os.getpid()
    (tmp_path / "s" / ".lock").write_text(json.dumps({"pid": 1, "host": "elsewhere"}))
    with pytest.raises(FolderBusy, match="on host elsewhere.*remove"):
        Store(tmp_path / "s", "demo")


def test_two_real_processes_on_one_sweep_folder(tmp_path: Path) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text('name = "g"\nseeds = 40\n[base]\nschedule = { inputs = 2000 }\n'
                    'network = { hidden = 6 }\nrecord = { traces = "none" }\n')
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "argnn_sim", "sweep", str(grid), "--out", str(out),
           "--jobs", "1", "--engine", "simpy"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    try:
        for _ in range(600):
            if (out / ".lock").exists() or first.poll() is not None:
                break
            subprocess.run(["sleep", "0.1"])
        second = subprocess.run(cmd + ["--resume"], capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 2, second.stderr
        assert "in use by process" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        first.kill()  # its worker notices within a second and ends too
        first.communicate(timeout=30)


def test_damaged_units_are_quarantined_and_run_again(tmp_path: Path, capsys) -> None:
    with Store(tmp_path / "s", "demo") as st:
        for i in range(4):
            st.put(f"k{i}", {"x": i})
    units = tmp_path / "s" / "runs"
    (units / "k0.json").write_text('{"x": ')
    (units / "k1.json").write_text("\x00\x01 garbage")
    (units / "k2.json").write_text(json.dumps({"x": 2, "store_version": 99}))
    ran = []
    with Store(tmp_path / "s", "demo") as st:
        got = st.run([(f"k{i}", lambda i: ran.append(i) or {"x": i}, (i,)) for i in range(4)])
    assert sorted(ran) == [0, 1, 2] and got["k3"] == {"x": 3}
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all("was damaged" in e and "quarantine/" in e for e in err)
    assert "store version 99" in " ".join(err)
    assert len(list((tmp_path / "s" / "quarantine").iterdir())) == 3  # kept, never deleted


def test_a_unit_that_is_not_an_object_carries_its_version_too(tmp_path: Path, capsys) -> None:
    """A list of rows (the logic comparison's units) is stored inside an object with the
    version, so a unit of another store version is recognized whatever its value."""
    rows = [{"h": 1, "err": 0.5}, {"h": 2, "err": 0.25}]
    with Store(tmp_path / "s", "demo") as st:
        st.put("a", rows)
        st.put("b", [1, 2])
        assert st.get("a") == rows and st.get("b") == [1, 2]
    path = tmp_path / "s" / "runs" / "b.json"
    assert S.unit_value(json.loads(path.read_text())) == [1, 2]
    assert S.unit_value([3]) == [3]  # a bare list, written before values were wrapped
    raw = json.loads(path.read_text())
    raw["store_version"] = 99
    path.write_text(json.dumps(raw))
    with Store(tmp_path / "s", "demo") as st:
        assert st.get("b") is None and st.get("a") == rows
    assert "store version 99" in capsys.readouterr().err


def test_every_pool_worker_starts_while_sigint_is_blocked() -> None:
    """The pool starts its workers on demand; make_executor starts all of them inside its
    SIGINT-blocked window, so none can die of a Ctrl-C (with a traceback) while starting."""
    from argnn_sim.executors import make_executor

    with make_executor("processes", 3) as ex:
        assert len(ex._processes) == 3


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "ENOSPC"), (errno.EROFS, "EROFS"),
                                         (errno.EFBIG, "EFBIG")])
def test_a_failed_write_is_one_error_and_finished_units_stay(tmp_path: Path, monkeypatch,
                                                             code: int, words: str) -> None:
    with Store(tmp_path / "s", "demo") as st:
        st.put("a", {"x": 1})
        real = S.write_atomic

        def failing(path: Path, text: str) -> None:
            raise OSError(code, os.strerror(code), str(path))

        monkeypatch.setattr(S, "write_atomic", failing)
        with pytest.raises(StoreError, match=f"cannot write .*b.json.*{words}.*run the same "
                                             "command again"):
            st.run([("b", lambda: {"x": 2}, ())])
        monkeypatch.setattr(S, "write_atomic", real)
        assert st.get("a") == {"x": 1} and st.get("b") is None
    assert sorted(p.name for p in (tmp_path / "s" / "runs").iterdir()) == ["a.json"]


def test_a_file_size_limit_stops_a_sweep_in_one_line(tmp_path: Path) -> None:
    """``ulimit -f``: SIGXFSZ is ignored, the write fails with EFBIG, one line, exit 2, no
    half-written unit; without the limit the same command resumes."""
    import resource

    grid = tmp_path / "g.toml"
    grid.write_text('name = "g"\nseeds = 3\n[base]\nschedule = { inputs = 100 }\n')
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "argnn_sim", "sweep", str(grid), "--out", str(out),
           "--jobs", "1"]

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2500, 2500))

    p = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert p.returncode == 2, p.stderr
    assert "EFBIG" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    for f in (out / "runs").glob("*.json"):
        json.loads(f.read_text())
    again = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (out / "summary.csv").is_file()


def test_chunks_are_sized_by_estimated_work() -> None:
    from argnn_sim.sweep import CHUNK_SECONDS, Grid, _fits, plan_chunks

    small = Grid.from_dict({"seeds": 40, "base": {"schedule": {"inputs": 200},
                                                  "record": {"traces": "prunes"}}})
    big = Grid.from_dict({"seeds": 40, "base": {"schedule": {"inputs": 4000},
                                                "network": {"hidden": 6},
                                                "record": {"traces": "prunes"}}})
    for g in (small, big):
        sizes = [len(c) for name, c in plan_chunks(g.runs()) if name == "batch"]
        cap = max(2, min(32, _fits(g.runs()[0].scenario, CHUNK_SECONDS)))
        assert sizes and max(sizes) <= cap and sum(sizes) == 40
    assert max(len(c) for _, c in plan_chunks(big.runs())) < \
        max(len(c) for _, c in plan_chunks(small.runs()))


@pytest.mark.slow
def test_fault_drill_short_form() -> None:
    """The drill (tests/drills/faults.py --short): Ctrl-C at random moments on a sweep and a
    traffic comparison (twice in a row on the last try), a full disk, two processes and a
    stale lock, damaged units and settings; every row must come out clean."""
    p = subprocess.run([sys.executable, str(ROOT / "tests" / "drills" / "faults.py"),
                        "--short"], capture_output=True, text=True, timeout=1500)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    lines = p.stdout.strip().splitlines()
    rows, last = lines[1:-1], lines[-1]
    assert len(rows) == 5 and all(r.rstrip().endswith("yes") for r in rows), p.stdout
    assert last.startswith("interrupts delivered: ") and int(last.split()[-1]) >= 1, p.stdout


def test_a_checkpoint_write_past_a_file_size_limit_is_an_oserror_naming_it(tmp_path) -> None:
    """torch.save into a file stops in its zip writer with a RuntimeError; checkpoints go
    through memory and one atomic write, so the limit is EFBIG with the path, nothing left."""
    code = ("import resource, signal, sys, torch\n"
            "from pathlib import Path\n"
            "from prunegcrn_bridge.traffic.train import _save_checkpoint\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))\n"
            "p = Path(sys.argv[1]) / 'best.pt'\n"
            "try:\n"
            "    _save_checkpoint({'w': torch.zeros(4000)}, p)\n"
            "except OSError as e:\n"
            "    print(e.errno, e.filename == str(p), sorted(x.name for x in p.parent.iterdir()))\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert r.stdout.split() == [str(errno.EFBIG), "True", "[]"], r.stdout + r.stderr[-2000:]


def test_a_worker_that_re_runs_the_entry_script_ignores_ctrl_c(tmp_path: Path) -> None:
    """A spawned worker re-runs its parent's script (install_signals first thing): it must
    ignore Ctrl-C from the start, never print a line of its own (its parent stops it)."""
    script = tmp_path / "entry.py"
    script.write_text(
        "from argnn_sim.errors import install_signals\n"
        "install_signals()\n"
        "import signal\n"
        "def handler():\n"
        "    return str(signal.getsignal(signal.SIGINT))\n"
        "if __name__ == '__main__':\n"
        "    import concurrent.futures as cf, multiprocessing as mp\n"
        "    print('parent', 'first' in handler())\n"
        "    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context('spawn')) as ex:\n"
        "        print('worker', ex.submit(handler).result())\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       cwd=ROOT, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
                       # Ctrl-C as a terminal's foreground job has it (a test runner's
                       # worker may ignore it, and an ignored Ctrl-C is left ignored)
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert r.stdout.split() == ["parent", "True", "worker", str(int(signal.SIG_IGN))], \
        r.stdout + r.stderr[-2000:]
