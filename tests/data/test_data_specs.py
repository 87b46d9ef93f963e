"""The one spec grammar (baryir.specs): known parses, errors, suites named explicitly (never by
which folders exist), and a suite's protocol honoured by compare and by the data module."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import torch

from baryir.cli import main
from baryir.data import RestorationDataModule
from baryir.data.datasets.testsets import build_test_set
from baryir.data.suites import build_rows, expand_specs, load_suite
from baryir.evaluation.runner import EvaluationLoop, evaluate
from baryir.io.checkpoint import export_weights
from baryir.io.image import write_image
from baryir.metrics import EvalProtocol
from baryir.models import create_model, model_config
from baryir.specs import (
    DegradationPart,
    FolderSpec,
    SetSpec,
    SuiteRef,
    parse_degradation,
    parse_folder,
    parse_range,
    parse_row,
    parse_suite_ref,
)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("CBSD68:25", SetSpec("CBSD68", arg="noise:25")),
        ("Kodak24:jpeg:20", SetSpec("Kodak24", arg="jpeg:20")),
        (
            "CBSD68[0:10]:noise:25+jpeg:30",
            SetSpec("CBSD68", arg="noise:25+jpeg:30", subset=slice(0, 10)),
        ),
        ("Rain100H[-10:]", SetSpec("Rain100H", subset=slice(-10, None))),
        ("CDD11:low_haze_rain", SetSpec("CDD11", arg="low_haze_rain")),
        ("/data/pairs", SetSpec("/data/pairs", folder=True)),
        ("./ood", SetSpec("./ood", folder=True)),
        ("noise:25@/x/clean[:3]", SetSpec("/x/clean", True, "noise:25", slice(None, 3))),
        ("25@./photos", SetSpec("./photos", True, "noise:25")),
        ("ood", SetSpec("ood")),  # a name: never a suite, never a folder
        ("suite:ood", SuiteRef(name="ood")),
        ("suite:mine/x.yml", SuiteRef(path=Path("mine/x.yml"))),
        ("my-suite.yaml", SuiteRef(path=Path("my-suite.yaml"))),
        ("CBSD68:suite:do-no-harm", SetSpec("CBSD68", suite=SuiteRef(name="do-no-harm"))),
    ],
)
def test_known_rows_parse(text: str, parsed: SetSpec | SuiteRef) -> None:
    assert parse_row(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty row spec"),
        ("CBSD68:", "nothing after ':'"),
        ("suite:", "name the suite after 'suite:'"),
        ("noise:25@CBSD68", "'@' takes a folder path"),
        ("@/x/y", "empty degradation before '@'"),
        ("Kodak24:jpeg:20[0:4]", "right after the set or folder"),
        ("/x/y[0:1", "right after the set or folder"),
        ("CBSD68[0:1]x:25", "a set is NAME"),
    ],
)
def test_bad_rows_fail_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")) as error:
        parse_row(text)
    assert "\n" not in str(error.value)


def test_degradations_folders_and_suite_references() -> None:
    assert parse_degradation("Noise:15-50+jpeg:30") == (
        DegradationPart("noise", "15-50"),
        DegradationPart("jpeg", "30"),
    )
    assert parse_degradation("50") == (DegradationPart("noise", "50"),)
    assert parse_degradation("clean") == (DegradationPart("clean"),)
    with pytest.raises(ValueError, match="empty part"):
        parse_degradation("noise:5++jpeg:30")
    assert parse_range("15-50", "s") == (15.0, 50.0) and parse_range("0.5", "s") == 0.5
    with pytest.raises(ValueError, match="use N or MIN-MAX"):
        parse_range("a-b", "s")
    assert parse_folder("haze@/data/c[0:2]") == FolderSpec("haze", Path("/data/c"), slice(0, 2))
    assert parse_folder("Rain13k") == FolderSpec(None, Path("Rain13k"))  # only a folder here
    with pytest.raises(ValueError, match="empty degradation"):
        parse_folder("@/data/c")
    assert parse_suite_ref("ood") == SuiteRef(name="ood")  # where only a suite can stand
    with pytest.raises(ValueError, match="write suite:ood"):
        parse_suite_ref("ood", bare=False)


def _photos(folder: Path, count: int = 2, size: int = 20) -> None:
    generator = torch.Generator().manual_seed(1)
    for i in range(count):
        write_image(folder / f"{i}.png", torch.rand(3, size, size, generator=generator))


def test_a_folder_named_like_a_suite_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    _photos(tmp_path / "CBSD68")
    (tmp_path / "ood" / "input").mkdir(parents=True)  # ./ood: a folder named like the suite
    (tmp_path / "ood.yaml").mkdir()  # even a folder named like a suite file
    monkeypatch.chdir(tmp_path)
    assert os.path.isdir("ood")
    assert load_suite("ood").name == "ood"  # the library suite, not the folder
    harm = expand_specs(["suite:do-no-harm"])
    assert harm[:3] == ["CBSD68:clean", "CBSD68:noise:5", "CBSD68:jpeg:40"]
    with pytest.raises(ValueError, match="names a suite: write suite:ood for the suite, or ./ood"):
        build_rows(["ood"], tmp_path)
    with pytest.raises(ValueError, match="names a suite, not a test set"):
        build_test_set("suite:ood", tmp_path)
    rows = build_rows(["CBSD68:suite:do-no-harm"], tmp_path, max_images=1)
    assert [row.label for row in rows] == ["CBSD68 clean", "CBSD68 noise:5", "CBSD68 jpeg:40"]
    with pytest.raises(ValueError, match="unknown suite 'tasks'"):
        build_rows(["suite:tasks"], tmp_path)


def _y_suite(tmp_path: Path, clean: Path) -> Path:
    suite = tmp_path / "y-suite.yaml"
    suite.write_text(
        f"name: y\nprotocol: {{channel: y, size_policy: pad}}\nsets: ['noise:50@{clean}']\n"
    )
    return suite


def test_compare_scores_a_suite_row_by_the_suite_protocol(tmp_path: Path, capsys) -> None:
    torch.manual_seed(0)
    model = create_model("baryir-tiny").eval()
    clean = tmp_path / "clean"
    _photos(clean, size=21)  # not a multiple of 8: the size policy shows
    suite = _y_suite(tmp_path, clean)
    weights = tmp_path / "tiny.safetensors"
    export_weights(model.state_dict(), weights, "baryir-tiny", model_config(model))
    out = tmp_path / "out"
    other = f"lowlight:0.2@{clean}"  # a second type: compare's embedding view needs two
    argv = ["--ckpt", str(weights), "--sets", str(suite), other, "--output", str(out)]
    assert main(["compare", *argv, "--embedding-images", "1", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "Y channels" in printed and "RGB channels" in printed
    with (out / "results.csv").open() as handle:
        rows = {row["test_set"]: float(row["psnr"]) for row in csv.DictReader(handle)}
    noisy = build_test_set(f"noise:50@{clean}")
    y = evaluate(model, [noisy], protocol=EvalProtocol(channel="y", size_policy="pad"))
    rgb = evaluate(model, [noisy, build_test_set(other)])
    # the same computation on the same images: the CSV's 6 decimals are the only difference
    assert rows["clean noise:50"] == pytest.approx(y["clean noise:50"]["psnr"], abs=1e-5)
    assert rows["clean lowlight:0.2"] == pytest.approx(rgb["clean lowlight:0.2"]["psnr"], abs=1e-5)
    assert abs(rows["clean noise:50"] - rgb["clean noise:50"]["psnr"]) > 0.1  # not the default


def test_data_module_rows_of_a_suite_carry_its_protocol(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    _photos(clean)
    suite = _y_suite(tmp_path, clean)
    data = RestorationDataModule(
        tasks=["denoise_25"], test_sets=[str(suite), f"noise:50@{clean}"], num_workers=0
    )
    data.setup("test")
    loop = EvaluationLoop(EvalProtocol(channel="rgb"))
    loop.start(data.test_datasets)  # what RestorationTask does in baryir test
    assert data.test_labels == ["clean noise:50", "clean noise:50 #2"]
    assert [scorer.protocol.channel for scorer in loop.scorers] == ["y", "rgb"]
    assert loop.scorers[0].protocol == load_suite(suite).protocol
