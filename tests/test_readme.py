"""Every Python code block of the README and of the documentation pages (``docs/*.md``) runs
as written, pasted into a script of its own (a process-pool sweep needs its
``if __name__ == "__main__":`` guard), with nothing on stderr; every ``argnn`` command line
in their shell blocks names options the parser knows; every page they link to exists."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README = "\n".join(p.read_text(encoding="utf-8") for p in PAGES)


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, flags=re.S | re.M)


PY_BLOCKS = _blocks("python")


def test_the_readme_has_python_examples():
    assert len(PY_BLOCKS) >= 2


@pytest.mark.parametrize("i", range(len(PY_BLOCKS)))
def test_python_block_runs_as_written(i, tmp_path):
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    script = tmp_path / f"block{i}.py"
    script.write_text(PY_BLOCKS[i], encoding="utf-8")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stderr == "", p.stderr[-3000:]


def _argnn_lines() -> list[list[str]]:
    out = []
    for block in _blocks("bash"):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("#")[0].strip()
            m = re.search(r"(?:^|/)argnn\s+(.*)$", line)
            if m and "..." not in line:
                out.append(shlex.split(m.group(1)))
    return out


def test_every_argnn_command_line_parses():
    from argnn_sim.cli import _build_parser, _command_of, _plugins

    lines = _argnn_lines()
    assert len(lines) >= 10
    for argv in lines:
        argv = [a for a in argv if a not in ("[", "]")]
        cmd = _command_of(argv)
        if cmd in _plugins():
            pytest.importorskip("torch")
        parser = _build_parser(load=cmd if cmd in _plugins() else None)
        try:
            parser.parse_args([a.strip("[]") for a in argv if a.strip("[]")])
        except SystemExit as exc:  # pragma: no cover - shows which line
            raise AssertionError(f"README: argnn {' '.join(argv)}") from exc


def test_the_readme_is_a_landing_page_and_every_link_resolves():
    import re as _re

    text = PAGES[0].read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for arxiv in ("2502.17522", "2510.10803", "2510.22058"):
        assert f"arXiv:{arxiv}" in text
    for page in PAGES:
        body = page.read_text(encoding="utf-8")
        for target in _re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", body):
            if not target.startswith(("http://", "https://")):
                assert (page.parent / target).exists(), f"{page.name}: {target}"
