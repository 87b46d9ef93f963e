"""Does bf16 restore give the fp32 pictures? PSNR of bf16 outputs against fp32 outputs.

For each network (the presets of ``--models``, default the full ``baryir``, with random
weights, seed 0, and any checkpoints given with ``--ckpt``) and each photo of the named sets
(central crops), restores in fp32 and under bf16 autocast and reports the PSNR of the bf16
output against the fp32 one (8-bit, RGB; the option ships only if it is at least 45 dB), and
both latencies. One JSON line per (network, set) plus the machine; needs a CPU with AMX or
AVX-512 BF16 to mean anything (it says so).

    python benchmarks/bf16_agreement.py --ckpt runs/quickstart/checkpoints/last.ckpt \\
        --sets Kodak24 CBSD68 --crop 256 --max-images 8
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, set_threads  # noqa: E402

from baryir.data.transforms import center_crop  # noqa: E402
from baryir.inference import native_bf16, restore  # noqa: E402
from baryir.io.image import list_images, read_image  # noqa: E402
from baryir.metrics import psnr_ssim  # noqa: E402
from baryir.models import create_model, load_model  # noqa: E402


def agreement(
    network: torch.nn.Module, images: list[torch.Tensor], tile: int | None
) -> dict[str, float]:
    """PSNR of bf16 against fp32 outputs (mean, min) and the median latencies."""
    psnrs, fp32_times, bf16_times = [], [], []
    for image in images:
        start = time.perf_counter()
        reference = restore(network, image, tile=tile)
        fp32_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        output = restore(network, image, tile=tile, precision="bf16")
        bf16_times.append(time.perf_counter() - start)
        psnrs.append(psnr_ssim(output, reference)[0])
    return {
        "psnr_bf16_vs_fp32_mean": round(statistics.fmean(psnrs), 2),
        "psnr_bf16_vs_fp32_min": round(min(psnrs), 2),
        "fp32_s": round(statistics.median(fp32_times), 3),
        "bf16_s": round(statistics.median(bf16_times), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", nargs="*", default=[], help="trained checkpoints to add")
    parser.add_argument("--models", nargs="*", default=["baryir"], help="presets, random weights")
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sets", nargs="+", default=["Kodak24", "CBSD68"])
    parser.add_argument("--crop", type=int, default=256, help="central crop (0: whole photos)")
    parser.add_argument("--max-images", type=int, default=8)
    parser.add_argument("--tile", type=int, default=None)
    parser.add_argument("--threads", default="auto")
    args = parser.parse_args()
    set_threads(args.threads)
    if not native_bf16("cpu"):
        print("this CPU has no AMX / AVX-512 BF16: bf16 falls back to fp32", file=sys.stderr)
    networks = {}
    for preset in args.models:
        torch.manual_seed(0)
        networks[f"{preset} (random weights)"] = create_model(preset)
    networks |= {Path(ckpt).name: load_model(ckpt) for ckpt in args.ckpt}
    for set_name in args.sets:
        files = list_images(args.root / set_name, recursive=True, allow_empty=False)[
            : args.max_images
        ]
        images = [read_image(f) for f in files]
        if args.crop:
            images = [center_crop(image, args.crop).contiguous() for image in images]
        for name, network in networks.items():
            emit(
                "bf16_agreement",
                network=name,
                set=set_name,
                images=len(images),
                crop=args.crop or None,
                bf16_native=native_bf16("cpu"),
                **agreement(network, images, args.tile),
            )


if __name__ == "__main__":
    main()
