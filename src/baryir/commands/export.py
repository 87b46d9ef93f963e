"""``baryir export CKPT OUT``: a training checkpoint's network as safetensors + JSON, as ONNX
(``OUT.onnx``: dynamic height and width, see :mod:`baryir.inference.onnx`), or as a Hugging Face
Hub folder (``config.json``, ``model.safetensors``, a model card)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from jsonargparse.typing import PositiveInt

from baryir.inference import Precision


def _card_details(checkpoint: Path) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The recipe (the LightningModule's hyper-parameters, ``RestorationTask``) and data settings
    of a Lightning checkpoint."""
    from baryir.io.checkpoint import load_checkpoint

    if checkpoint.suffix != ".ckpt":
        return None, None
    saved = load_checkpoint(checkpoint)
    recipe = dict(saved.get("hyper_parameters") or {})
    recipe.pop("_instantiator", None)
    data = dict(saved.get("datamodule_hyper_parameters") or {})
    data.pop("_instantiator", None)
    return recipe or None, data or None


def _report_table(checkpoint: Path, results: Path | None) -> str | None:
    """``results`` or the ``results.md`` that ``baryir test`` wrote beside the run, if any."""
    found = results or checkpoint.resolve().parent.parent / "report" / "results.md"
    return found.read_text(encoding="utf-8") if found.is_file() else None


def run(
    checkpoint: Path,
    output: Path,
    *,
    results: Path | None = None,
    push_to_hub: str | None = None,
    private: bool = False,
    precision: Precision = "auto",
    opset: PositiveInt | None = None,
) -> int:
    """Write the network of a training checkpoint for others to use.

    Args:
        checkpoint: Lightning .ckpt written by baryir fit (or any file load_model reads).
        output: OUT.safetensors (a .json with the config is written beside it), OUT.onnx (one
            image (1, 3, H, W) in [0, 1], any H and W; needs pip install 'baryir[onnx]'), or a
            folder (new or empty) for the Hugging Face Hub layout: config.json,
            model.safetensors and a README.md model card (needs pip install 'baryir[hub]').
        results: an evaluation table (Markdown) for the model card (default: the results.md
            that baryir test wrote in the run's report folder, if any).
        push_to_hub: also upload the folder to this Hub repository (user/name; needs a network
            and a token).
        private: create the Hub repository as private.
        precision: of the written weights and graph: auto and fp32 write float32 (the file runs
            on other machines, whose bf16 support this one cannot know; ONNX Runtime and
            OpenVINO choose their own compute precision), bf16 writes bfloat16 weights
            (.safetensors and Hub folders only).
        opset: ONNX opset (default: the installed exporter's).
    """
    from baryir.models import export_model, load_model, model_config

    model = load_model(checkpoint)
    if precision == "bf16" and output.suffix.lower() == ".onnx":
        raise ValueError("--precision bf16: ONNX export writes float32 (use auto or fp32)")
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    auto = " (auto: an exported file keeps the float32 weights)" if precision == "auto" else ""
    print(f"precision: {'bf16' if dtype == torch.bfloat16 else 'fp32'}{auto}")
    model = model.to(dtype)
    if output.suffix.lower() == ".onnx":
        from baryir.inference.onnx import export_onnx

        written = export_onnx(model, output, opset)
        print(f"wrote {output} (ONNX opset {written}, input image (1, 3, H, W) in [0, 1])")
        return 0
    if output.suffix.lower() == ".safetensors":
        if push_to_hub:
            raise ValueError("--push-to-hub needs a folder as OUT (the Hub layout)")
        export_model(model, output)
        print(f"wrote {output}")
        return 0
    from baryir.io.hub import model_card, write_hub_folder
    from baryir.io.hub import push_to_hub as push

    name = model.preset_name
    recipe, data = _card_details(checkpoint)
    parameters = sum(p.numel() for p in model.parameters())
    card = model_card(
        name, model_config(model), parameters, recipe, data, _report_table(checkpoint, results)
    )
    write_hub_folder(model, output, name, model_config(model), card)
    print(f"wrote {output}/ ({', '.join(sorted(p.name for p in output.iterdir()))})")
    if push_to_hub:
        print(f"pushed to {push(output, push_to_hub, private)}")
    return 0
