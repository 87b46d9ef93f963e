"""How far tiled restoration is from a full-image pass (a measuring tool).

For each image: add Gaussian noise (sigma 25, seeded), restore it whole and with tiles, and
print PSNR(tiled, untiled) and the PSNR of each against the clean image (8-bit, RGB, full
image). Usage::

    python tests/commands/tiling_equivalence_probe.py IMAGE... [--model baryir-tiny]
        [--tile 256] [--overlap 32] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import torch

from baryir.inference import restore
from baryir.io.image import read_image
from baryir.metrics import EvalProtocol, psnr_ssim
from baryir.models import create_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+")
    parser.add_argument("--model", default="baryir-tiny")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = create_model(args.model).to(args.device).eval()
    protocol = EvalProtocol(size_policy="pad")
    print(f"model {args.model} (random init), tile {args.tile}, overlap {args.overlap}")
    for path in args.images:
        clean = read_image(path)
        generator = torch.Generator().manual_seed(0)
        noisy = (clean + 25 / 255 * torch.randn(clean.shape, generator=generator)).clamp(0, 1)
        start = time.perf_counter()
        whole = restore(model, noisy)
        middle = time.perf_counter()
        tiled = restore(model, noisy, tile=args.tile, tile_overlap=args.overlap)
        end = time.perf_counter()
        agreement = psnr_ssim(tiled, whole, protocol)[0]
        whole_psnr = psnr_ssim(whole, clean, protocol)[0]
        tiled_psnr = psnr_ssim(tiled, clean, protocol)[0]
        print(
            f"{path} {clean.shape[-1]}x{clean.shape[-2]}: PSNR(tiled, untiled) {agreement:.2f} dB; "
            f"vs clean: untiled {whole_psnr:.2f} dB, tiled {tiled_psnr:.2f} dB "
            f"(diff {tiled_psnr - whole_psnr:+.3f} dB); {middle - start:.2f}/{end - middle:.2f} s"
        )


if __name__ == "__main__":
    main()
