"""Engines side by side: torch fp32, torch bf16 (autocast), ONNX Runtime and OpenVINO on the
same exported network and image, repeats interleaved (each engine's best of ``--repeats``).

ONNX Runtime runs the float32 graph of ``baryir export``; OpenVINO compiles the same file with
its default CPU precision (bf16 on CPUs with AVX-512 BF16 or AMX, recorded as ``precision``)
and, as ``openvino-f32``, with ``INFERENCE_PRECISION_HINT=f32``. An engine whose package is
absent is recorded as skipped. One JSON line per engine, with PSNR against torch fp32.

    python benchmarks/bench_engines.py --model baryir --size 256
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, network_gflop, rate_fields, set_threads  # noqa: E402

from baryir.inference import native_bf16, restore  # noqa: E402
from baryir.inference.onnx import export_onnx  # noqa: E402
from baryir.models import create_model  # noqa: E402


def _openvino(path: Path, threads: int, hint: str | None) -> tuple[Callable, str] | None:
    try:
        import openvino
    except ImportError:
        return None
    config = {"INFERENCE_NUM_THREADS": threads}
    if hint:
        config["INFERENCE_PRECISION_HINT"] = hint
    compiled = openvino.Core().compile_model(str(path), "CPU", config)
    precision = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
    request = compiled.create_infer_request()

    def run(image: np.ndarray) -> np.ndarray:
        return request.infer({0: image})[0].copy()

    return run, "bf16" if "bf16" in precision or "bfloat16" in precision else "fp32"


def _onnxruntime(path: Path, threads: int) -> tuple[Callable, str] | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return (lambda image: session.run(["restored"], {"image": image})[0]), "fp32"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="baryir")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", default="auto")
    args = parser.parse_args(argv)
    threads = set_threads(args.threads)
    torch.manual_seed(0)
    network = create_model(args.model).eval()
    image = torch.rand(1, 3, args.size, args.size, generator=torch.Generator().manual_seed(0))
    array = image.numpy()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        started = time.perf_counter()
        export_onnx(network, path)
        export_s = time.perf_counter() - started
        engines: dict[str, tuple[Callable, str] | None] = {
            "torch-fp32": (lambda _: restore(network, image, precision="fp32").numpy(), "fp32"),
            "torch-bf16": (
                lambda _: restore(network, image, precision="bf16").numpy(),
                "bf16" if native_bf16("cpu") else "fp32",
            ),
            "onnxruntime": _onnxruntime(path, threads),
            "openvino": _openvino(path, threads, None),
            "openvino-f32": _openvino(path, threads, "f32"),
        }
        present = {name: engine for name, engine in engines.items() if engine is not None}
        outputs = {name: np.clip(run(array), 0, 1) for name, (run, _) in present.items()}
        best = dict.fromkeys(present, math.inf)
        for _ in range(args.repeats):
            for name, (run, _) in present.items():
                started = time.perf_counter()
                run(array)
                best[name] = min(best[name], time.perf_counter() - started)
    gflop = network_gflop(network, tuple(image.shape))
    reference = outputs["torch-fp32"]
    for name, engine in engines.items():
        common = {"engine": name, "model": args.model, "size": args.size}
        if engine is None:
            emit("engine", **common, skipped="package not installed")
            continue
        error = float(np.mean((outputs[name] - reference) ** 2))
        emit(
            "engine",
            **common,
            precision=engine[1],
            latency_s=round(best[name], 4),
            repeats=args.repeats,
            export_s=round(export_s, 1),
            psnr_vs_fp32=round(10 * math.log10(1 / error), 2) if error > 0 else None,
            **rate_fields(gflop, best[name], engine[1]),
        )


if __name__ == "__main__":
    main()
