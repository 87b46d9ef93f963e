"""Time and peak memory of opening the authors' release-format file (whole pickled modules).

Writes a file in the release's structure at the release's size (``BaryNet(decoder=True)`` and
``Potentials(3, 384, 128)``, 337 MB; see ``released_format.py``), then runs, each in a fresh
process: ``baryir convert`` to safetensors (network), ``baryir convert --arch potentials``, and
``baryir restore`` of one 256 x 256 photo straight from the file. Each line gives the wall time
and the process's peak resident memory (``VmHWM``, read by the process as it exits: unlike
``ru_maxrss`` it does not carry over the parent's memory through fork and exec), beside that of
a process that only imports what the commands import (the baseline) and the file's size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import emit
from PIL import Image
from released_format import ReleasedPotentials, released_network, write_released_checkpoint

from baryir.models import create_model

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference" / "official_barynet_state_dict.json"

COMMANDS = {
    "convert": "`baryir convert` (network)",
    "convert_potentials": "`baryir convert --arch potentials`",
    "restore": "`baryir restore` of a {size} x {size} photo from the `.pt`",
}
"""What each case runs, as the docs' table names it."""

PEAK = """
import runpy, sys
try:
    {body}
finally:
    status = open("/proc/self/status").read()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    print("peak_kib", kib, file=sys.stderr)
"""


def run(argv: list[str] | None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of ``baryir argv`` in a fresh process.

    ``argv=None`` only imports the command line, the models and the converter (the baseline).
    """
    body = (
        "import baryir.cli, baryir.models, baryir.commands.convert"
        if argv is None
        else f"sys.argv = ['baryir', *{argv!r}]; runpy.run_module('baryir', run_name='__main__')"
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PEAK.format(body=body)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"baryir {argv} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    kib = next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("peak_kib"))
    return elapsed, int(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--size", type=int, default=256, help="side of the restored photo")
    args = parser.parse_args()
    if not args.reference.is_file():
        print(f"# skipped: released parameter list not found at {args.reference}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        torch.manual_seed(0)
        network = released_network(create_model("baryir"), args.reference)
        release = write_released_checkpoint(
            tmp_path / "model_allBaryNet128.pt", network, ReleasedPotentials(3, 384, 128)
        )
        del network
        size_mb = release.stat().st_size / 2**20
        photo = tmp_path / "photo.png"
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)).save(photo)
        _, base_mb = run(None)
        cases = {
            "convert": ["convert", str(release), str(tmp_path / "net.safetensors")],
            "convert_potentials": [
                "convert",
                str(release),
                str(tmp_path / "pots.safetensors"),
                "--arch",
                "potentials",
            ],
            "restore": ["restore", str(photo), "--ckpt", str(release)]
            + ["--output", str(tmp_path / "restored")],
        }
        for case, argv in cases.items():
            seconds, peak_mb = run(argv)
            emit(
                "released_weights",
                case=case,
                command=COMMANDS[case].format(size=args.size),
                file_mb=round(size_mb, 1),
                seconds=round(seconds, 2),
                peak_rss_mb=round(peak_mb, 1),
                baseline_rss_mb=round(base_mb, 1),
                peak_over_baseline_mb=round(peak_mb - base_mb, 1),
                photo=args.size if case == "restore" else None,
            )


if __name__ == "__main__":
    main()
