"""Write ``docs/degradations.png``: one photo under every degradation at two strengths, labelled.

    python docs/make_degradations_gallery.py [--output docs/degradations.png] [--size 128]

The photo is scikit-image's ``astronaut`` (inside its wheel, no download), resized to
``size x size``; each cell is seeded by its spec (``generator_for(spec, seed)``), so the picture
is the same on every run. Labels are the specs, as ``build_degradation`` and the suites take them.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from baryir.degradations import build_degradation, generator_for

# (milder, stronger) spec of each degradation; the last rows are compounds (CDD-11 style)
GALLERY: tuple[tuple[str, str], ...] = (
    ("noise:15", "noise:50"),
    ("rain:light", "rain:heavy"),
    ("haze:0.05", "haze:0.15"),
    ("motion_blur:9", "motion_blur:21"),
    ("defocus:1.5", "defocus:3"),
    ("jpeg:40", "jpeg:10"),
    ("lowlight:0.4", "lowlight:0.15"),
    ("colorcast:1.5", "colorcast:3"),
    ("snow:0.3", "snow:0.8"),
    ("fog:0.3", "fog:0.8"),
    ("sun_flare:0.2", "sun_flare:0.45"),
    ("shadow:0.4", "shadow:0.8"),
    ("spatter:0.4", "spatter:0.8"),
    ("illumination:0.1", "illumination:0.2"),
    ("iso_noise:0.2", "iso_noise:0.6"),
    ("shot_noise:0.02", "shot_noise:0.1"),
    ("downscale:0.5", "downscale:0.2"),
    ("zoom_blur:1.05", "zoom_blur:1.15"),
    ("glass_blur:1", "glass_blur:3"),
    ("chromatic_aberration:0.05", "chromatic_aberration:0.15"),
    ("haze:0.05+rain:light", "haze:0.15+rain:heavy"),
    ("haze:0.05+snow:0.3+lowlight:0.4", "haze:0.15+snow:0.8+lowlight:0.2"),
)

LABEL_HEIGHT = 25


def astronaut(size: int) -> Tensor:
    """scikit-image's ``astronaut`` resized to ``(3, size, size)`` float in [0, 1]."""
    from skimage import data

    photo = Image.fromarray(data.astronaut()).resize((size, size), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(photo).copy()).permute(2, 0, 1).float() / 255.0


def _wrap(label: str, font: ImageFont.ImageFont, width: int) -> str:
    """Break ``label`` before a ``+`` or ``:`` where a line would be wider than ``width`` pixels."""
    lines = [""]
    for piece in re.split(r"(?=[+:])", label):
        if lines[-1] and font.getlength(lines[-1] + piece) > width:
            lines.append(piece)
        else:
            lines[-1] += piece
    return "\n".join(lines)


def _cell(image: Tensor, label: str, font: ImageFont.ImageFont) -> Image.Image:
    """``image`` ``(3, S, S)`` above a white strip holding ``label`` (two lines at most)."""
    size = image.shape[-1]
    pixels = (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    cell = Image.new("RGB", (size, size + LABEL_HEIGHT), "white")
    cell.paste(Image.fromarray(pixels), (0, 0))
    text = _wrap(label, font, size - 4)
    ImageDraw.Draw(cell).multiline_text((2, size + 1), text, fill="black", font=font, spacing=1)
    return cell


def gallery(
    photo: Tensor,
    pairs: Sequence[tuple[str, str]] = GALLERY,
    columns: int = 8,
    seed: int = 0,
) -> Image.Image:
    """Each pair's two specs applied to ``photo`` ``(3, S, S)``, then the clean photo.

    ``columns`` cells a row (even, so a pair never breaks across rows). Returns an RGB image of
    ``columns x S`` by ``rows x (S + 25)`` pixels.
    """
    if columns < 2 or columns % 2:
        raise ValueError(f"columns must be an even number >= 2, got {columns}")
    font = ImageFont.load_default(size=11)
    cells = [
        _cell(build_degradation(spec)(photo, generator_for(spec, seed)), spec, font)
        for pair in pairs
        for spec in pair
    ]
    cells.append(_cell(photo, "clean", font))
    size = photo.shape[-1]
    rows = -(-len(cells) // columns)
    sheet = Image.new("RGB", (columns * size, rows * (size + LABEL_HEIGHT)), "white")
    for index, cell in enumerate(cells):
        row, column = divmod(index, columns)
        sheet.paste(cell, (column * size, row * (size + LABEL_HEIGHT)))
    return sheet


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("degradations.png"))
    parser.add_argument("--size", type=int, default=128, help="side of each cell's photo")
    parser.add_argument("--columns", type=int, default=8, help="cells per row (even)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sheet = gallery(astronaut(args.size), GALLERY, args.columns, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.output, optimize=True)
    print(f"wrote {args.output} ({sheet.width}x{sheet.height})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
