"""The files a user reads first agree with the package: the citation's version and papers,
the changelog's versions, the licence."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _version() -> str:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg["metadata"]["version"]


def test_the_citation_names_this_version_and_the_three_papers():
    yaml = pytest.importorskip("yaml")
    d = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert d["cff-version"] == "1.2.0" and str(d["version"]) == _version()
    ids = {r["identifiers"][0]["value"] for r in d["references"]}
    assert ids == {"arXiv:2502.17522", "arXiv:2510.10803", "arXiv:2510.22058"}


def test_the_changelog_has_every_released_version_and_the_licence_is_there():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {_version()} — " in text and "## 0.1.0 — " in text
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
