"""Peak resident memory of ``baryir restore`` on synthetic square images (a measuring tool).

Each measurement runs ``baryir restore`` in a child process and reads the child's peak RSS
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``) from a fresh intermediate process, so the
numbers do not mix. Usage::

    python tests/commands/restore_memory_probe.py --sizes 512 2048 4096 --tile 256 \
        [--model baryir-tiny] [--device cpu]

Prints one line per size: side, pixels, peak RSS (MiB), and MiB per megapixel above the
smallest size (a bounded restore grows only with the image buffers, not with the model's
activations).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def synthetic_image(path: Path, side: int, seed: int = 0) -> None:
    """A smooth colour gradient plus noise, ``side`` x ``side``, 8-bit PNG."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, side, dtype=np.float32)
    base = ramp[None, :, None] * np.array([1.0, 0.6, 0.3], np.float32) + ramp[:, None, None] * 0.2
    noisy = base + rng.normal(0, 10, (side, side, 3)).astype(np.float32)
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path)


def peak_rss_mib(command: list[str]) -> float:
    """Peak RSS of ``command`` in MiB (Linux reports ``ru_maxrss`` in KiB)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 2048, 4096])
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--model", default="baryir-tiny")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch

    from baryir.io.checkpoint import export_weights
    from baryir.models import create_model, model_config

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        torch.manual_seed(0)
        model = create_model(args.model)
        weights = folder / "weights.safetensors"
        export_weights(model.state_dict(), weights, args.model, model_config(model))
        del model
        rows = []
        for side in args.sizes:
            image = folder / f"in{side}.png"
            synthetic_image(image, side)
            command = [sys.executable, "-m", "baryir", "restore", str(image)]
            command += ["--ckpt", str(weights), "--output", str(folder / f"out{side}")]
            command += ["--tile", str(args.tile), "--device", args.device]
            start = time.perf_counter()
            rows.append((side, peak_rss_mib(command), time.perf_counter() - start))
        base_side, base_rss, _ = rows[0]
        print(f"model {args.model}, tile {args.tile}, device {args.device}")
        for side, rss, seconds in rows:
            extra_mpix = (side * side - base_side * base_side) / 1e6
            slope = (rss - base_rss) / extra_mpix if extra_mpix else float("nan")
            print(
                f"{side:>5}^2  {side * side / 1e6:6.2f} Mpx  peak RSS {rss:8.1f} MiB  "
                f"(+{slope:6.1f} MiB/Mpx over {base_side}^2)  {seconds:6.1f} s"
            )


if __name__ == "__main__":
    main()
