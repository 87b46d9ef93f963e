"""Suite files: parsing, row labels that carry the parameters, and seeded (repeatable) inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from baryir.data import RestorationDataModule
from baryir.data.suites import (
    SUITES_DIR,
    build_rows,
    list_suites,
    load_suite,
    parse_suite,
)
from baryir.io.image import write_image

SUITES = SUITES_DIR


def test_ood_suite_parses_with_parameter_labels() -> None:
    suite = load_suite(SUITES / "ood.yaml")
    labels = [s.label for s in suite.sets]
    assert suite.name == "ood" and suite.seed == 0
    for expected in ("CBSD68 noise:75", "Kodak24 jpeg:10", "McMaster defocus:2+noise:15+jpeg:30"):
        assert expected in labels
    assert len(labels) == len(set(labels)) == 3 * 16  # 14 unseen kinds + clean, noise:5
    assert "CBSD68 clean" in labels and "Kodak24 noise:5" in labels
    assert "real/noisy-RNI15" in suite.real
    assert all(s.spec.split(":", 1)[0] in ("CBSD68", "Kodak24", "McMaster") for s in suite.sets)


def test_standard_suite_marks_smoke_sets() -> None:
    suite = load_suite(SUITES / "standard.yaml")
    labels = [s.label for s in suite.sets]
    assert labels[:4] == ["CBSD68 noise:15", "CBSD68 noise:25", "CBSD68 noise:50", "Rain100H"]
    assert any(label.startswith("SOTS-outdoor [smoke") for label in labels)
    assert any(label.startswith("Rain100L [smoke") for label in labels)


def test_do_no_harm_suite_scores_clean_and_mild_inputs_of_three_sets() -> None:
    suite = load_suite(SUITES / "do-no-harm.yaml")
    assert [s.label for s in suite.sets] == [
        f"{clean} {spec}"
        for clean in ("CBSD68", "Kodak24", "McMaster")
        for spec in ("clean", "noise:5", "jpeg:40")
    ]
    assert not suite.real


def test_bare_sigma_is_labelled_as_noise_and_folder_specs_by_folder() -> None:
    suite = parse_suite(
        {"clean_sets": ["Kodak24"], "degradations": [25], "sets": ["jpeg:20@/x/photos"]}
    )
    assert [s.label for s in suite.sets] == ["Kodak24 noise:25", "photos jpeg:20"]
    assert suite.sets[0].spec == "Kodak24:noise:25"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"clean_sets": ["CBSD68"]}, "go together"),
        ({"clean_sets": ["CBSD68"], "degradations": ["blurry"]}, "unknown degradation"),
        ({"sets": ["Rain100H"], "colour": 1}, "Option 'colour' is not accepted"),
        ({"sets": ["Rain100H", "Rain100H"]}, "duplicate rows"),
        (
            {"sets": ["Rain100H"], "protocol": {"chanel": "y"}},
            "'protocol' does not accept option 'chanel'",
        ),
        ({}, "no sets"),
    ],
)
def test_bad_suites_fail_with_one_clear_error(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_suite(config, where="s.yaml")


def test_missing_suite_file() -> None:
    with pytest.raises(FileNotFoundError, match="suite file not found"):
        load_suite("/nonexistent/suite.yaml")


def test_ood_inputs_identical_across_two_runs(shared_data: Path) -> None:
    suite = load_suite(SUITES / "ood.yaml")
    kodak = parse_suite(
        {
            "seed": suite.seed,
            "sets": [
                s.spec
                for s in suite.sets
                if s.spec.startswith("Kodak24") and s.spec != "Kodak24:clean"  # input = target
            ],
        }
    )
    first = [d[0]["input"] for d in kodak.build(root=shared_data, max_images=1)]
    second = [d[0]["input"] for d in kodak.build(root=shared_data, max_images=1)]
    clean = kodak.build(root=shared_data, max_images=1)[0][0]["target"]
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
        assert not torch.equal(a, clean)
    other_seed = parse_suite({"seed": 1, "sets": [kodak.sets[0].spec]}).build(shared_data, 1)
    assert not torch.equal(other_seed[0][0]["input"], first[0])
    assert all(suite.real_folders(shared_data))


def test_suites_load_by_name_and_include_the_do_no_harm_rows() -> None:
    assert list_suites() == ["do-no-harm", "ood", "standard", "unseen"]
    assert load_suite("ood") == load_suite("suite:ood") == load_suite(SUITES / "ood.yaml")
    harm = load_suite("do-no-harm").degradations
    suite = parse_suite(
        {"include": ["do-no-harm"], "clean_sets": ["Kodak24"], "degradations": ["noise:50"]}
    )
    assert suite.degradations == (*harm, "noise:50")
    assert [s.label for s in suite.sets] == [f"Kodak24 {spec}" for spec in suite.degradations]
    # the suites that show the do-no-harm rows include them: no copy of the list
    for name in ("ood", "unseen"):
        assert load_suite(name).degradations[: len(harm)] == harm
    with pytest.raises(ValueError, match="duplicate rows"):
        parse_suite(
            {"include": ["do-no-harm"], "clean_sets": ["CBSD68"], "degradations": ["clean"]}
        )


def test_rows_name_suites_or_test_sets(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write_image(tmp_path / "CBSD68" / f"{name}.png", torch.rand(3, 16, 16))
    mini = tmp_path / "mini.yaml"
    mini.write_text("seed: 3\nclean_sets: [CBSD68]\ndegradations: [clean, noise:5]\n")
    rows = build_rows([str(mini), "CBSD68:25"], root=tmp_path, max_images=1)
    assert [d.label for d in rows] == ["CBSD68 clean", "CBSD68 noise:5", "CBSD68 noise:25"]
    assert len(rows[0]) == 1
    data = RestorationDataModule(
        root=str(tmp_path), tasks=["denoise_25"], val_sets=[str(mini)], num_workers=0
    )
    data.setup("validate")
    assert data.val_labels == ["CBSD68 clean", "CBSD68 noise:5"]
    suite_input = load_suite(mini).build(tmp_path)[1][0]["input"]  # the suite's seed applies
    assert torch.equal(data.val_datasets[1][0]["input"], suite_input)


def test_every_task_has_its_default_test_set_in_the_data_module() -> None:
    from baryir.data import DEFAULT_EVAL_SETS
    from baryir.data.datasets.testsets import test_set_label
    from baryir.data.degradation_tasks import TASKS

    assert set(DEFAULT_EVAL_SETS) == set(TASKS)
    assert DEFAULT_EVAL_SETS["denoise_25"] == "CBSD68:25"
    assert DEFAULT_EVAL_SETS["derain"] == "Rain100L"
    assert test_set_label(DEFAULT_EVAL_SETS["cdd_low_haze_rain"]) == "CDD11 low_haze_rain"
    with pytest.raises(ValueError, match="unknown suite 'tasks'"):
        load_suite("tasks")  # the mapping is the data module's, not a suite
