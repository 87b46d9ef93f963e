"""The local web page of ``baryir app``: drop a photo, see it restored beside the original.

A Gradio page (``pip install "baryir[app]"``) over the same path as ``baryir restore``: each photo
goes through :func:`baryir.inference.files.restore_file` (tiling, precision, colour type, alpha
and bit depth as there), so the PNG the page offers for download is byte for byte the one
``baryir restore`` writes with the same checkpoint and options. The page shows the input and
the restored image under a before/after slider, the PSNR against a reference image when one is
given, and what the checkpoint is (network, parameters, training recipe and data). A file that
cannot be read gets ``restore``'s one-line message, on the page.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from torch import nn

__all__ = ["build_app", "describe_checkpoint", "find_checkpoints"]


def find_checkpoints(root: Path) -> list[Path]:
    """Weights under ``root`` that ``load_model`` reads, newest first: ``*.ckpt``,
    ``*.safetensors`` and Hub folders."""
    from baryir.io.hub import is_hub_folder

    if not root.is_dir():
        return []
    found = [*root.rglob("*.ckpt"), *root.rglob("*.safetensors")]
    found = [p for p in found if not is_hub_folder(p.parent)]
    found += [p.parent for p in root.rglob("config.json") if is_hub_folder(p.parent)]
    return sorted(set(found), key=lambda p: p.stat().st_mtime, reverse=True)


def describe_checkpoint(path: Path, model: nn.Module) -> str:
    """Markdown: the network, its size and, for a ``baryir fit`` checkpoint, its recipe."""
    from baryir.io.checkpoint import load_checkpoint

    parameters = sum(p.numel() for p in model.parameters())
    name = getattr(model, "preset_name", type(model).__name__)
    lines = [f"**{name}**, {parameters:,} parameters, from `{path}`"]
    if path.suffix == ".ckpt":
        saved = load_checkpoint(path)
        hparams = saved.get("hyper_parameters") or {}
        data = saved.get("datamodule_hyper_parameters") or {}
        recipe = {
            key: hparams.get(key)
            for key in ("wb_solver", "identity_init", "ema_decay", "lr_schedule", "alignment_share")
            if key in hparams
        }
        lines.append(f"recipe: `{json.dumps(recipe)}`, steps: {saved.get('global_step', '?')}")
        if data:
            tasks = data.get("tasks")
            source = data.get("root") or "the bundled photos"
            lines.append(f"data: tasks `{tasks}` on {source}")
    return "  \n".join(lines)


def _preview(path: Path, folder: Path) -> str:
    """An 8-bit RGB PNG of ``path`` for the slider (the browser cannot show every PNG kind)."""
    from baryir.io.image import read_image, write_image

    target = Path(tempfile.mkdtemp(dir=folder)) / f"{path.stem}-view.png"
    write_image(target, read_image(path))
    return str(target)


class _Models:
    """Networks loaded once per checkpoint."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.loaded: dict[str, nn.Module] = {}

    def get(self, checkpoint: str) -> nn.Module:
        from baryir.models import load_model

        if checkpoint not in self.loaded:
            self.loaded[checkpoint] = load_model(checkpoint).to(self.device)
        return self.loaded[checkpoint]


def build_app(checkpoints: list[Path], device: str = "cpu") -> Any:
    """The page (a ``gradio.Blocks``) restoring with any of ``checkpoints`` (the first chosen).

    Elements have ids for scripts and tests: ``photo``, ``reference``, ``checkpoint``, ``tile``,
    ``precision``, ``restore``, ``slider``, ``result`` (the PNG to download), ``psnr``, ``about``.
    """
    import gradio as gr

    from baryir.inference import describe_precision
    from baryir.inference.files import restore_file
    from baryir.io.image import ImageReadError, read_image
    from baryir.metrics import psnr_ssim

    if not checkpoints:
        raise ValueError("baryir app: no checkpoint to serve")
    print(describe_precision("auto", device))
    models = _Models(device)
    choices = [str(p) for p in checkpoints]
    outputs = Path(tempfile.mkdtemp(prefix="baryir-app-"))

    def about(checkpoint: str) -> str:
        try:
            return describe_checkpoint(Path(checkpoint), models.get(checkpoint))
        except (OSError, ValueError) as error:
            raise gr.Error(" ".join(str(error).split())) from None

    def run(
        photo: str | None,
        reference: str | None,
        checkpoint: str,
        tile: float,
        precision: str,
    ) -> tuple[Any, str, str]:
        if not photo:
            raise gr.Error("drop a photo first")
        source = Path(photo)
        target = Path(tempfile.mkdtemp(dir=outputs)) / f"{source.stem}-restored.png"
        try:
            model = models.get(checkpoint)
            restore_file(
                model,
                source,
                target,
                tile=int(tile) or None,
                device=device,
                precision=precision,  # type: ignore[arg-type]
            )
        except (ImageReadError, OSError, ValueError) as error:
            raise gr.Error(" ".join(str(error).split())) from None
        said = ""
        if reference:
            try:
                psnr, ssim = psnr_ssim(read_image(target), read_image(Path(reference)))
                said = f"restored against the reference: **{psnr:.2f} dB** PSNR, SSIM {ssim:.4f}"
            except (ImageReadError, ValueError, RuntimeError) as error:
                said = f"no PSNR: {' '.join(str(error).split())}"
        try:
            preview = (_preview(source, outputs), _preview(target, outputs))
        except (ImageReadError, OSError, ValueError):
            preview = None
        return preview, str(target), said

    with gr.Blocks(title="baryir: restore a photo") as page:
        gr.Markdown(
            "## baryir: all-in-one image restoration\n"
            "Drop a photo (noisy, rainy, hazy, blurred, dark... or clean: a good model leaves "
            "it alone). It is restored as `baryir restore` does; the slider compares."
        )
        with gr.Row():
            with gr.Column():
                # files, not gr.Image: the upload reaches restore as it is (bit depth, alpha,
                # colour type), and a broken file gets restore's own message
                photo = gr.File(label="photo", type="filepath", elem_id="photo")
                reference = gr.File(
                    label="reference (optional: for PSNR)", type="filepath", elem_id="reference"
                )
                checkpoint = gr.Dropdown(
                    choices, value=choices[0], label="checkpoint", elem_id="checkpoint"
                )
                with gr.Row():
                    tile = gr.Number(0, precision=0, minimum=0, label="tile (0: whole image)",
                                     elem_id="tile")  # fmt: skip
                    precision = gr.Radio(["auto", "fp32", "bf16"], value="auto",
                                         label="precision", elem_id="precision")  # fmt: skip
                button = gr.Button("Restore", variant="primary", elem_id="restore")
            with gr.Column():
                slider = gr.ImageSlider(label="before | after", type="filepath", elem_id="slider")
                psnr = gr.Markdown(elem_id="psnr")
                result = gr.File(label="restored PNG", elem_id="result")
                info = gr.Markdown(about(choices[0]), elem_id="about")
        button.click(run, [photo, reference, checkpoint, tile, precision], [slider, result, psnr])
        checkpoint.change(about, checkpoint, info)
    return page
