"""Where a result comes from: the git revision (training and study) and the machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

from baryir.provenance import describe_revision, git_revision, machine_description


def test_revision_outside_a_checkout_is_unknown(tmp_path: Path) -> None:
    assert git_revision(tmp_path) == "unknown"
    assert describe_revision(tmp_path) == "unknown (not a git checkout)"


def test_describe_revision_marks_uncommitted_changes(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    revision = git_revision(tmp_path)
    assert len(revision) == 40 and describe_revision(tmp_path) == revision
    (tmp_path / "untracked.txt").write_text("not tracked: no mark\n")
    assert describe_revision(tmp_path) == revision
    (tmp_path / "a.txt").write_text("two\n")
    assert describe_revision(tmp_path) == f"{revision} (with uncommitted changes)"


def test_machine_description_names_torch_and_python() -> None:
    text = machine_description()
    assert "torch" in text and "Python" in text and "logical CPUs" in text
