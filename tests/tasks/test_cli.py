"""End to end through the ``baryir`` command: fit, test, restore, export, config errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from baryir.cli import command_parser, main
from baryir.io.image import read_image, write_image
from baryir.models import create_model

CONF = Path(__file__).resolve().parents[1] / "conf" / "tiny.yaml"


def fit(tmp_path: Path, *extra: str) -> Path:
    """Run the tiny config for its 5 steps in ``tmp_path``; returns ``last.ckpt``."""
    ckpt_dir = tmp_path / "checkpoints"
    main(
        [
            "fit",
            "--config",
            str(CONF),
            "--trainer.default_root_dir",
            str(tmp_path),
            "--trainer.logger.init_args.save_dir",
            str(tmp_path),
            "--trainer.callbacks.init_args.dirpath",
            str(ckpt_dir),
            *extra,
        ]
    )
    return ckpt_dir / "last.ckpt"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fit(tmp_path_factory.mktemp("fit"))


def test_fit_writes_checkpoint_and_logs_every_term(trained: Path) -> None:
    assert trained.is_file()
    checkpoint = torch.load(trained, map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == 5
    assert checkpoint["hyper_parameters"]["model"] == "baryir-tiny"
    metrics = next(trained.parents[1].rglob("metrics.csv"))
    header = metrics.read_text().splitlines()[0].split(",")
    for term in ("pixel", "transport", "orthogonality", "contrast", "sinkhorn"):
        assert f"train/{term}" in header
    assert "val/psnr" in header


def test_test_writes_table_per_degradation(trained: Path, tmp_path: Path, capsys) -> None:
    report = tmp_path / "report"
    main(
        [
            "test",
            "--config",
            str(CONF),
            "--ckpt_path",
            str(trained),
            "--report.dir",
            str(report),
            "--trainer.logger",
            "false",
            "--trainer.default_root_dir",
            str(tmp_path),
        ]
    )
    rows = list(csv.DictReader((report / "results.csv").open()))
    assert [row["test_set"] for row in rows] == [
        "bundled-val denoise_25",
        "bundled-val derain",
        "bundled-val dehaze",
        "bundled-val clean",
        "bundled-val noise:5",
        "bundled-val jpeg:40",
    ]
    for row in rows:
        assert 5 < float(row["psnr"]) < 60 and 0 < float(row["ssim"]) <= 1
        assert 0 <= float(row["worse"]) <= 1
    assert float(rows[3]["input_psnr"]) == float("inf")  # the clean row: input = target
    assert (report / "results.md").read_text().count("average") == 1
    assert (report / "comparison.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "average" in out
    assert "Test metric" not in out  # one results table: Lightning's listing is off by default


def test_restore_folder_and_export_round_trip(trained: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_image(inputs / "odd.png", torch.rand(3, 37, 53))
    write_image(inputs / "gray.png", torch.rand(1, 40, 24))
    out = tmp_path / "out"
    assert main(["restore", str(inputs), "--ckpt", str(trained), "--output", str(out)]) == 0
    assert read_image(out / "odd.png").shape == (3, 37, 53)
    assert read_image(out / "gray.png").shape == (3, 40, 24)
    # Refuses to overwrite outputs unless asked.
    assert main(["restore", str(inputs), "--ckpt", str(trained), "--output", str(out)]) == 2

    exported = tmp_path / "tiny.safetensors"
    assert main(["export", str(trained), str(exported)]) == 0
    from_export = create_model("baryir-tiny", weights=exported).eval()
    from_ckpt = create_model("baryir-tiny", weights=trained).eval()
    x = torch.rand(1, 3, 24, 40)
    with torch.no_grad():
        torch.testing.assert_close(from_export(x).restored, from_ckpt(x).restored)


def test_restore_missing_input_fails_before_work(trained: Path, tmp_path: Path, capsys) -> None:
    code = main(
        ["restore", str(tmp_path / "nope.png"), "--ckpt", str(trained), "--output", str(tmp_path)]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.png" in err[0]


def test_config_typo_is_a_clear_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(CONF), "--model.objective.wb_solverr", "none"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "wb_solverr" in err[0]


def _command(
    inputs: list[str],
    *,
    ckpt: Path,
    seeds: list[int] | None = None,
    tile: int | None = None,
    tile_overlap: int = 32,
    overwrite: bool = False,
) -> int:
    """A command.

    Args:
        inputs: files.
        ckpt: weights.
        seeds: seeds.
        tile: tile side.
        tile_overlap: overlap.
        overwrite: replace.
    """
    return 0


def test_command_parser_follows_the_signature(capsys) -> None:
    parser = command_parser(_command, "baryir x")
    args = parser.parse_args(["a.png", "b.png", "--ckpt", "w.ckpt", "--tile-overlap", "8"])
    assert args.as_dict() == {
        "inputs": ["a.png", "b.png"],
        "ckpt": Path("w.ckpt"),
        "seeds": None,
        "tile": None,
        "tile_overlap": 8,
        "overwrite": False,
    }
    args = parser.parse_args(["a", "--ckpt", "w", "--seeds", "1", "2", "--overwrite"])
    assert args.seeds == [1, 2] and args.overwrite is True
    parser.print_help()
    help_text = capsys.readouterr().out
    assert "--tile-overlap" in help_text and "overlap" in help_text and "type: Path" in help_text
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["a", "--ckpt", "w", "--tile", "x"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("baryir x: error:") and "tile" in err[0]


def test_command_errors_are_one_line(tmp_path: Path, capsys) -> None:
    code = main(["export", str(tmp_path / "missing.ckpt"), str(tmp_path / "out.safetensors")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("baryir export: error:") and "missing.ckpt" in err[0]
    with pytest.raises(SystemExit) as exit_info:
        main(["restore", "x.png", "--output", str(tmp_path)])  # --ckpt missing
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ckpt" in err[0]


def test_every_command_runs_on_one_error_path(capsys) -> None:
    from baryir.errors import UsageError, report_error, run_guarded

    assert run_guarded("baryir x", lambda: None) == 0
    assert run_guarded("baryir x", lambda: 1) == 1

    def missing() -> int:
        raise FileNotFoundError("checkpoint not found: w.ckpt")

    assert run_guarded("baryir x", missing) == 2
    assert capsys.readouterr().err == "baryir x: error: checkpoint not found: w.ckpt\n"

    def bug() -> int:
        raise KeyError("a bug keeps its traceback")

    with pytest.raises(KeyError):
        run_guarded("baryir x", bug)
    assert report_error("baryir x", UsageError("bad flag (see baryir x --help)")) == 2
    assert capsys.readouterr().err == "baryir x: error: bad flag (see baryir x --help)\n"


def test_unknown_command_lists_every_command(capsys) -> None:
    assert main(["restor", "x.png"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("baryir: error: unknown command 'restor': choose from fit, validate")
    assert "restore, convert, export, suite, compare, study, app" in err and "\n" not in err
