"""Every fenced ``bash`` and ``python`` block of ``README.md`` and ``docs/*.md`` runs.

How a block runs (what a reader needs to know to reproduce a failure):

- In one scratch folder per session, a copy of ``configs/`` and ``studies/`` (the study's report
  script) beside ``../shared`` (a link to the shared data, when present), holding the files the
  docs name as the reader's own: ``photo.jpg``, ``photo.png``, ``photos/``, ``more/``,
  ``folder/`` (bundled photos, 64 to 96 pixels), a
  quickstart checkpoint at ``runs/quickstart/checkpoints/last.ckpt``, a file in the authors'
  release format (``model_allBaryNet128.pt``, ``benchmarks/released_format.py``), a miniature
  paper layout under ``data/`` and, for the blocks that name it, a 2-step run of
  ``configs/baryir-3d.yaml`` on it. Blocks of one page run in the page's order, so a block may use
  what an earlier one wrote.
- ``python`` blocks run as they are, with ``python -``.
- ``bash`` blocks run with ``bash -euo pipefail``; ``baryir`` is the installed command with smoke
  options appended: ``fit`` trains 2 steps (``SMOKE["fit"]``), ``suite`` and ``study`` score one
  image a row, the study trains one seed for 2 steps. ``pip install`` lines print what they
  would install and install nothing (``make test`` installed every extra).
- A block whose first line (after a ``#!`` line) is ``# not run by the docs test: REASON`` is
  listed, not run; the reason is visible on the page. ``test_blocks_marked_not_run`` prints
  the list.

Blocks that train or load the full ``baryir`` network are marked ``slow`` (``make test-slow``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata
from tests.conftest import REPO, shared_data_dir

from baryir.models import create_model

NOT_RUN = "# not run by the docs test:"
PAPER_RUN = "runs/baryir-3d/checkpoints/last.ckpt"
REFERENCE = shared_data_dir().parent / "reference" / "official_barynet_state_dict.json"
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FULL_NETWORK = re.compile(
    r"baryir-3d|model_allBaryNet128|create_model\(\"baryir\"|model=\"baryir\""
)
SMOKE = {
    "fit": (
        "--trainer.max_steps=2 --model.warmup_steps=0 --trainer.val_check_interval=2 "
        "--trainer.limit_val_batches=1 --trainer.max_epochs=1 --data.num_workers=0"
    ),
    "suite": "--max-images 1 --no-real",
    "study": "--steps 2 --seeds 0 --max-images 1",
}
SHELL_PRELUDE = f"""
baryir() {{
  case "$1" in
    fit) command baryir "$@" {SMOKE["fit"]} ;;
    suite) command baryir "$@" {SMOKE["suite"]} ;;
    study) command baryir "$@" {SMOKE["study"]} ;;
    *) command baryir "$@" ;;
  esac
}}
pip() {{ echo "docs test: not running pip $*"; }}
"""


@dataclass(frozen=True)
class Block:
    """One fenced block: its page, first line, language and code."""

    page: Path
    line: int
    lang: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def not_run_reason(self) -> str | None:
        lines = [line for line in self.code.splitlines() if not line.startswith("#!")]
        first = lines[0] if lines else ""
        return first[len(NOT_RUN) :].strip() if first.startswith(NOT_RUN) else None


def extract_blocks(page: Path) -> list[Block]:
    """The ``bash``/``python`` fenced blocks of a Markdown page, in order (indented ones too)."""
    blocks, fence, lang, start, body = [], None, "", 0, []
    for number, line in enumerate(page.read_text().splitlines(), start=1):
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence, lang, start, body = (
                line[: len(line) - len(line.lstrip())],
                stripped[3:],
                number,
                [],
            )
        elif fence is not None and stripped == "```":
            if lang in ("bash", "python"):
                blocks.append(Block(page, start, lang, "\n".join(body) + "\n"))
            fence = None
        elif fence is not None:
            body.append(line[len(fence) :] if line.startswith(fence) else line)
    return blocks


BLOCKS = [block for page in PAGES for block in extract_blocks(page)]


def _photo(path: Path, image: np.ndarray, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).resize((size, size)).save(path)


def _baryir(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "baryir", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _paper_layout(root: Path) -> None:
    """A miniature of the paper's data layout: 2 images a source, one test set a task."""
    photos = [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.rocket()]
    train, test = root / "Train", root / "test"
    for i, image in enumerate(photos[:2]):
        _photo(train / "Denoise" / f"{i}.png", image, 160)
        _photo(train / "Derain" / "rainy" / f"rain-{i + 1:03d}.png", image, 160)
        _photo(train / "Derain" / "gt" / f"norain-{i + 1:03d}.png", image, 160)
        _photo(train / "Dehaze" / "synthetic" / f"{i + 1:04d}_0.8_0.2.png", image, 160)
        _photo(train / "Dehaze" / "original" / f"{i + 1:04d}.png", image, 160)
    for i, image in enumerate(photos[2:]):
        _photo(test / "denoise" / "bsd68" / f"{i}.png", image, 64)
        _photo(test / "derain" / "Rain100L" / "input" / f"{i}.png", image, 64)
        _photo(test / "derain" / "Rain100L" / "target" / f"{i}.png", image, 64)
        _photo(test / "dehaze" / "input" / f"{i}.png", image, 64)
        _photo(test / "dehaze" / "target" / f"{i}.png", image, 64)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The folder the blocks run in, with the reader's files, and the environment they see."""
    top = tmp_path_factory.mktemp("docs")
    root = top / "repo"
    shutil.copytree(REPO / "configs", root / "configs")
    shutil.copytree(REPO / "studies", root / "studies")
    shared = shared_data_dir()
    if shared.is_dir():
        (top / "shared").mkdir()
        (top / "shared" / "data").symlink_to(shared.resolve())
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["OMP_NUM_THREADS"] = "1"
    env["WANDB_MODE"] = "offline"
    env["BARYIR_DATA"] = str(top / "shared" / "data")
    _photo(root / "photo.png", skdata.astronaut(), 96)
    _photo(root / "photo.jpg", skdata.chelsea(), 96)
    for folder, images in (
        ("photos", ("coffee", "rocket")),
        ("more", ("camera",)),
        ("folder", ("cat",)),
    ):
        for name in images:
            image = getattr(skdata, name)()
            image = np.stack([image] * 3, -1) if image.ndim == 2 else image
            _photo(root / folder / f"{name}.png", image, 64)
    _baryir(
        ["fit", "--config", "configs/quickstart.yaml", "--fresh", "true", *SMOKE["fit"].split()],
        root,
        env,
    )
    _paper_layout(root / "data")
    return root, env


def _run(block: Block, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if block.lang == "python":
        command = [sys.executable, "-"]
        source = block.code
    else:
        command = ["bash", "-euo", "pipefail", "-s"]
        source = SHELL_PRELUDE + block.code
    return subprocess.run(
        command, input=source, cwd=root, env=env, capture_output=True, text=True, timeout=900
    )


def _param(block: Block) -> pytest.param:
    slow = FULL_NETWORK.search(block.code) is not None
    return pytest.param(block, id=block.id, marks=[pytest.mark.slow] if slow else [])


def _needs_release_file(block: Block, root: Path) -> None:
    """Write ``model_allBaryNet128.pt`` (the release's 3D model, random weights) when named."""
    path = root / "model_allBaryNet128.pt"
    if "model_allBaryNet128.pt" not in block.code or path.exists():
        return
    if not REFERENCE.is_file():
        pytest.skip(f"{block.id} needs the released parameter names ({REFERENCE}), absent here")
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from released_format import ReleasedPotentials, released_network, write_released_checkpoint
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    torch.manual_seed(0)
    network = released_network(create_model("baryir"), REFERENCE)
    write_released_checkpoint(path, network, ReleasedPotentials(3, 384, 128))


def _needs_paper_run(block: Block, root: Path, env: dict[str, str]) -> None:
    """Train the paper preset for 2 steps on the miniature layout when a block names its run."""
    if "runs/baryir-3d/checkpoints" in block.code and not (root / PAPER_RUN).exists():
        fit = ["fit", "--config", "configs/baryir-3d.yaml", "--data.root", "data"]
        _baryir(fit + SMOKE["fit"].split(), root, env)


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS if b.not_run_reason is None])
def test_block_runs(block: Block, scratch: tuple[Path, dict[str, str]]) -> None:
    root, env = scratch
    if "../shared" in block.code and not (root.parent / "shared").exists():
        pytest.skip(f"{block.id} reads ../shared/data, absent here ({shared_data_dir()})")
    _needs_release_file(block, root)
    _needs_paper_run(block, root, env)
    done = _run(block, root, env)
    assert done.returncode == 0, (
        f"{block.id} ({block.lang}) failed with status {done.returncode}:\n"
        f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )


def test_blocks_marked_not_run() -> None:
    """Each block that is not run says why, and the list stays short."""
    skipped = [(b.id, b.not_run_reason) for b in BLOCKS if b.not_run_reason is not None]
    print(f"\n{len(BLOCKS)} blocks, {len(BLOCKS) - len(skipped)} run, {len(skipped)} not run:")
    for block_id, reason in skipped:
        print(f"  {block_id}: {reason}")
        assert reason, f"{block_id}: the not-run marker gives no reason"
    assert len(skipped) <= len(BLOCKS) // 3


def test_extract_blocks_reads_fences(tmp_path: Path) -> None:
    """Tagged fences at any indent are found, with their first line; others are not."""
    page = tmp_path / "page.md"
    page.write_text(
        "text\n```bash\necho a\n```\n\n- item\n\n  ```python\n  print(1)\n  ```\n"
        "```yaml\nkey: 1\n```\n```\nplain\n```\n"
    )
    blocks = extract_blocks(page)
    assert [(b.line, b.lang, b.code) for b in blocks] == [
        (2, "bash", "echo a\n"),
        (8, "python", "print(1)\n"),
    ]
