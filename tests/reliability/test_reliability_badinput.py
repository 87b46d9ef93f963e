"""A corpus of bad image files through training data, ``baryir test`` and ``baryir restore``.

Each case must end in its documented outcome: converted, skipped with the file named, or a
one-line error; never a traceback from deep inside, a silent wrong result or a partial output.
"""

from __future__ import annotations

import builtins
import io
import json
import logging
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from baryir.cli import main
from baryir.data import RestorationDataModule
from baryir.io.checkpoint import export_weights
from baryir.io.image import read_image
from baryir.models import create_model, model_config

CONF = Path(__file__).resolve().parents[1] / "conf" / "tiny.yaml"
SIZE = (40, 48)  # (H, W) of every readable image
NON_UTF8 = os.fsdecode(b"caf\xe9.png")  # a name that is not valid UTF-8 (surrogate-escaped)

CONVERTED = ["cmyk.jpg", "deep16.png", "good.png", "gray.png", "palette.png", "rgba.png", NON_UTF8]
UNREADABLE = {  # skipped at the header check, with the reason in the message
    "empty.png": "file is empty",
    "text.png": "not a recognised image format",
    "zero.png": "not a recognised image format",
    "bomb.png": "too large",
}
TRUNCATED = "truncated.png"  # header fine, data cut: found when decoding


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width x height`` (CRCs valid) with one byte of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def _rgb(seed: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def make_corpus(folder: Path, truncated: bool = True) -> Path:
    """Every case of the corpus in ``folder`` (``dir.png`` is a folder named like an image)."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_rgb(0)).save(folder / "good.png")
    Image.fromarray(_rgb(1)[..., 0]).save(folder / "gray.png")
    Image.fromarray(np.dstack([_rgb(2), np.full(SIZE, 128, np.uint8)])).save(folder / "rgba.png")
    Image.fromarray(_rgb(3)).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(_rgb(4)).convert("P").save(folder / "palette.png")
    deep = np.random.default_rng(5).integers(0, 65536, (*SIZE, 3)).astype(np.uint16)
    cv2.imwrite(str(folder / "deep16.png"), deep)
    with open(os.path.join(os.fsencode(folder), os.fsencode(NON_UTF8)), "wb") as handle:
        Image.fromarray(_rgb(6)).save(handle, format="PNG")
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("this is not an image\n")
    (folder / "zero.png").write_bytes(_png_header_only(0, 16))
    (folder / "bomb.png").write_bytes(_png_header_only(60_000, 60_000))
    (folder / "dir.png").mkdir()
    if truncated:
        buffer = io.BytesIO()
        Image.fromarray(_rgb(7)).save(buffer, format="PNG")
        (folder / TRUNCATED).write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return folder


def make_pairs(root: Path, truncated: bool = True) -> Path:
    """``root/{input,target}``: the corpus as inputs, clean targets, plus a size mismatch."""
    inputs = make_corpus(root / "input", truncated)
    (root / "target").mkdir()
    for path in inputs.iterdir():
        if path.is_file():
            Image.fromarray(_rgb(9)).save(root / "target" / f"{Path(path.name).stem}.png")
    Image.fromarray(_rgb(10, (40, 30))).save(root / "input" / "mismatch.png")
    Image.fromarray(_rgb(11)).save(root / "target" / "mismatch.png")
    return root


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = create_model("baryir-tiny", dim=8)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    export_weights(model.state_dict(), path, "baryir-tiny", model_config(model))
    return path


def test_training_data_skips_names_and_converts(tmp_path: Path, caplog) -> None:
    root = make_pairs(tmp_path / "derain")
    data = RestorationDataModule(
        tasks=["derain"], folders={"derain": str(root)}, patch_size=32, batch_size=2, num_workers=0
    )
    with caplog.at_level(logging.WARNING):
        data.setup("fit")
    setup_log = caplog.text
    assert f"skipped {len(UNREADABLE)} unreadable images" in setup_log
    for name, reason in UNREADABLE.items():
        assert f"{name}: {reason}" in setup_log
    assert "skipped 1 pairs of different sizes" in setup_log and "mismatch.png" in setup_log
    kept = sorted(pair[0].name for pair in data.train_dataset.datasets[0].pairs)
    assert kept == sorted([*CONVERTED, TRUNCATED])

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        items = [data.train_dataset[i] for i in range(len(data.train_dataset))]
    assert TRUNCATED in caplog.text and "using another sample instead" in caplog.text
    for item in items:
        for key in ("input", "target"):
            assert item[key].shape == (3, 32, 32) and item[key].dtype == torch.float32
            assert torch.isfinite(item[key]).all() and 0 <= item[key].min() <= item[key].max() <= 1
    assert Path(TRUNCATED).stem not in {item["name"] for item in items}


def _test_command(tmp_path: Path, folder: Path) -> int:
    return main(
        [
            "test",
            "--config",
            str(CONF),
            "--data.test_sets",
            json.dumps([str(folder)]),
            "--trainer.logger",
            "false",
            "--trainer.default_root_dir",
            str(tmp_path),
            "--report.dir",
            str(tmp_path / "report"),
        ]
    )


def test_test_command_skips_unreadable_and_reports(tmp_path: Path, caplog, capsys) -> None:
    root = make_pairs(tmp_path / "set", truncated=False)
    with caplog.at_level(logging.WARNING):
        assert _test_command(tmp_path, root) == 0
    for name in UNREADABLE:
        assert name in caplog.text
    rows = (tmp_path / "report" / "results.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("set,")
    assert (tmp_path / "report" / "comparison.png").stat().st_size > 0  # non-UTF-8 name drawn


@pytest.mark.parametrize("case", ["truncated", "one_pixel"])
def test_test_command_unusable_image_is_one_line_error(tmp_path: Path, capsys, case: str) -> None:
    root = tmp_path / "set"
    for side in ("input", "target"):
        (root / side).mkdir(parents=True)
        Image.fromarray(_rgb(0)).save(root / side / "good.png")
    if case == "truncated":
        buffer = io.BytesIO()
        Image.fromarray(_rgb(7)).save(buffer, format="PNG")
        (root / "input" / "bad.png").write_bytes(buffer.getvalue()[:200])
        Image.fromarray(_rgb(8)).save(root / "target" / "bad.png")
    else:
        for side in ("input", "target"):
            Image.fromarray(_rgb(1, (1, 1))).save(root / side / "bad.png")
    assert _test_command(tmp_path, root) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and err[0].startswith("baryir test: error:") and "bad" in err[0]
    assert "Traceback" not in capsys.readouterr().err


def _outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_restore_converts_skips_and_never_writes_partial_files(
    tmp_path: Path, weights: Path, capsys
) -> None:
    corpus = make_corpus(tmp_path / "in")
    out = tmp_path / "out"
    assert main(["restore", str(corpus), "--ckpt", str(weights), "--output", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    skipped = [line for line in err if line.startswith("baryir restore: skipped:")]
    assert len(skipped) == len(UNREADABLE) + 1
    for name in [*UNREADABLE, TRUNCATED]:
        assert sum(name in line for line in skipped) == 1, name
    expected = sorted(f"{Path(name).stem}.png" for name in CONVERTED)
    assert _outputs(out) == expected  # nothing for the skipped files, no temporary files
    for name in expected:
        image = read_image(out / name)
        assert image.shape == (3, *SIZE) and torch.isfinite(image).all()
    assert Image.open(out / "gray.png").mode == "L"
    assert Image.open(out / "deep16.png").mode.startswith(("I", "RGB"))


def test_restore_folder_named_like_an_image_is_one_line_error(
    tmp_path: Path, weights: Path, capsys
) -> None:
    (tmp_path / "dir.png").mkdir()
    code = main(["restore", str(tmp_path / "dir.png"), "--ckpt", str(weights), "--output", "o"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dir.png" in err[0] and "holds no images" in err[0]


def test_restore_unreadable_permission_is_skipped(
    tmp_path: Path, weights: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests run as root, so ``chmod 000`` does not stop reads: ``open`` is patched instead."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(_rgb(0)).save(folder / "good.png")
    Image.fromarray(_rgb(1)).save(folder / "locked.png")
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):  # noqa: ANN001, ANN202 - builtins.open signature
        if str(file).endswith("locked.png"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    out = tmp_path / "out"
    assert main(["restore", str(folder), "--ckpt", str(weights), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "skipped: cannot read image" in err and "locked.png: permission denied" in err
    assert _outputs(out) == ["good.png"]
