"""The bundled default: every colour photo of the scikit-image wheel, a fixed split, do-no-harm
validation rows and crops that are never all black."""

from __future__ import annotations

import torch

from baryir.data import RestorationDataModule
from baryir.data.datasets.bundled import (
    BUNDLED_TRAIN,
    BUNDLED_VAL,
    bundled_eval_dataset,
    bundled_images,
)
from baryir.data.transforms import PairedRandomCrop, random_flat_contrast


def test_split_is_fixed_disjoint_and_loads_without_download() -> None:
    assert len(BUNDLED_TRAIN) == 7 and BUNDLED_VAL == ("chelsea", "coffee")
    assert not set(BUNDLED_TRAIN) & set(BUNDLED_VAL)
    for image in bundled_images("train") + bundled_images("val"):
        assert image.pixels.shape[0] == 3 and min(image.pixels.shape[1:]) >= 300
        assert float(image.pixels.min()) >= 0 and float(image.pixels.max()) <= 1


def test_default_validation_has_the_do_no_harm_rows() -> None:
    data = RestorationDataModule(tasks=["denoise_25", "derain"], num_workers=0)
    data.setup("validate")
    assert data.val_labels == [
        "bundled-val denoise_25",
        "bundled-val derain",
        "bundled-val clean",
        "bundled-val noise:5",
        "bundled-val jpeg:40",
    ]
    with_clean = RestorationDataModule(tasks=["derain", "clean"], num_workers=0, do_no_harm=None)
    with_clean.setup("validate")
    assert with_clean.val_labels.count("bundled-val clean") == 1
    none = RestorationDataModule(tasks=["derain"], num_workers=0, do_no_harm=[])
    none.setup("validate")
    assert none.val_labels == ["bundled-val derain"]


def test_clean_eval_rows_are_identical_and_mild_rows_are_mild() -> None:
    clean = bundled_eval_dataset("clean", crop=64)
    mild = bundled_eval_dataset("noise:5", crop=64)
    for i in range(len(clean)):
        item = clean[i]
        assert torch.equal(item["input"], item["target"])
        noisy = mild[i]
        assert torch.equal(noisy["target"], item["target"])
        assert 0 < float((noisy["input"] - noisy["target"]).abs().mean()) < 6 / 255


def test_random_crop_redraws_all_black_crops() -> None:
    image = torch.zeros(3, 64, 64)
    image[:, 40:, 40:] = 0.5  # one draw in 5.6 reaches it; with 10 redraws 7 crops in 8 do
    crop = PairedRandomCrop(8, dihedral=False)
    generator = torch.Generator().manual_seed(0)
    found = [bool(crop(image, generator=generator)[0].any()) for _ in range(100)]
    assert sum(found) > 70
    black = torch.zeros(3, 32, 32)
    (out,) = crop(black, generator=generator)  # no crop has content: the last draw is kept
    assert out.shape == (3, 8, 8)


def test_flat_contrast_lowers_contrast_around_the_mean_and_is_off_by_default() -> None:
    torch.manual_seed(0)
    image = torch.rand(3, 16, 16) * 0.5 + 0.25
    assert random_flat_contrast(image, 0.0) is image
    generator = torch.Generator().manual_seed(1)
    out = random_flat_contrast(image, 1.0, contrast=(0.5, 0.5), brightness=(0.0, 0.0))
    assert torch.allclose(out - image.mean(), 0.5 * (image - image.mean()), atol=1e-6)
    shifted = random_flat_contrast(
        image, 1.0, contrast=(1.0, 1.0), brightness=(0.1, 0.1), generator=generator
    )
    assert torch.allclose(shifted, (image + 0.1).clamp(0, 1))
    darker = [random_flat_contrast(image, 1.0, generator=generator) for _ in range(10)]
    assert all(float(f.mean()) <= float(image.mean()) + 1e-6 for f in darker)  # never brighter
    flat = [random_flat_contrast(image, 1.0, generator=generator) for _ in range(20)]
    assert all(f.std() <= image.std() + 1e-6 for f in flat)
    assert all(float(f.min()) >= 0 and float(f.max()) <= 1 for f in flat)


def test_flat_contrast_reaches_synthetic_training_sources_only() -> None:
    data = RestorationDataModule(
        tasks=["dehaze", "clean"], num_workers=0, patch_size=16, flat_contrast=1.0
    )
    data.setup("fit")
    assert [s.flat_contrast for s in data.train_dataset.datasets] == [1.0, 1.0]
    assert all(s.flat_contrast == 0.0 for s in data.val_datasets)
    item = data.train_dataset.datasets[1][0]  # clean: the flattened patch is input and target
    assert torch.equal(item["input"], item["target"])
