"""The local web page of ``baryir app``: drop a photo, see it restored beside the original.

A Gradio page (``pip install "baryir[app]"``) over the same path as ``baryir restore``: each photo
goes through :func:`baryir.inference.files.restore_file` (tiling, precision, colour type, alpha
and bit depth as there), so the PNG the page offers for download is byte for byte the one
``baryir restore`` writes with the same checkpoint and options. The page shows the input and
the restored image under a before/after slider, the PSNR against a reference image when one is
given, and what the checkpoint is (network, parameters, training recipe and data). A file that
cannot be read gets ``restore``'s one-line message, on the page, naming the uploaded file (never
a path on the server).

Under load its resources stay bounded (:class:`AppLimits`, options of ``baryir app``, stated on
the page): uploads have a size limit and images a decoded-pixel limit; one network runs at a time
on the device and a bounded number of photos wait for it (:class:`NetworkGate`; past that the page
answers "busy, try again"); every file of a request (upload, previews, result: Gradio's cache
too) lives in one temporary folder of the server whose files are removed after
``keep_files`` seconds, and the folder goes when the server stops (:func:`serve`: SIGTERM or
Ctrl-C).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from baryir.io.sweep import SweptFolder

__all__ = [
    "AppLimits",
    "BusyError",
    "NetworkGate",
    "build_app",
    "describe_checkpoint",
    "find_checkpoints",
    "serve",
]


@dataclass(frozen=True)
class AppLimits:
    """What one server accepts and keeps.

    Attributes:
        max_upload_mb: largest upload (MB); Gradio refuses bigger files before they are stored.
        max_pixels: largest image (pixels its header declares), refused before it is decoded.
        queue_size: photos that may wait while one is restored; past that the answer is busy.
        keep_files: seconds a request's files are kept (swept every ``keep_files / 10``).
    """

    max_upload_mb: int = 50
    max_pixels: int = 36_000_000
    queue_size: int = 8
    keep_files: float = 900.0

    def describe(self) -> str:
        """The limits in one line of Markdown, for the page."""
        return (
            f"Limits: uploads up to {self.max_upload_mb} MB, images up to "
            f"{self.max_pixels / 1e6:g} megapixels; one photo is restored at a time and "
            f"{self.queue_size} may wait (past that: busy, try again); files are removed "
            f"after {self.keep_files:g} s."
        )


class BusyError(RuntimeError):
    """Too many photos already wait for the network."""


class NetworkGate:
    """One network run at a time; at most ``queue_size`` callers wait for their turn."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.waiting = 0
        self._run = threading.Lock()
        self._count = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for the network, then hold it for the block.

        Raises:
            BusyError: ``queue_size`` callers wait already (the caller does not wait).
        """
        with self._count:
            if self.waiting >= self.queue_size and self._run.locked():
                raise BusyError(
                    f"busy: {self.waiting} photos are waiting for the network; try again in "
                    "a minute"
                )
            self.waiting += 1
        try:
            self._run.acquire()
        finally:
            with self._count:
                self.waiting -= 1
        try:
            yield
        finally:
            self._run.release()


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


def _public(error: BaseException, uploads: dict[Path, str], folder: Path) -> str:
    """``error`` in one line for the browser: each upload's server path replaced by the name
    it was sent with, and nothing else of the server's ``folder`` shown."""
    said = " ".join(str(error).split())
    for path, name in uploads.items():
        said = said.replace(str(path.resolve()), name).replace(str(path), name)
    said = said.replace(str(folder.resolve()), "").replace(str(folder), "")
    return said.replace("pass max_pixels to raise it", "baryir app --max-pixels sets it")


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


def build_app(
    checkpoints: list[Path],
    device: str = "cpu",
    limits: AppLimits | None = None,
    files: SweptFolder | None = None,
) -> Any:
    """The page (a ``gradio.Blocks``) restoring with any of ``checkpoints`` (the first chosen).

    Elements have ids for scripts and tests: ``photo``, ``reference``, ``checkpoint``, ``tile``,
    ``precision``, ``restore``, ``slider``, ``result`` (the PNG to download), ``psnr``, ``about``,
    ``limits``. Results and previews are written under ``files`` (default: a new temporary
    folder, not swept; :func:`serve` gives its swept one), which keeps a request's upload while
    the request runs or waits.
    """
    import gradio as gr

    from baryir.inference import describe_precision
    from baryir.inference.files import restore_file
    from baryir.io.image import ImageReadError, read_image
    from baryir.metrics import psnr_ssim

    if not checkpoints:
        raise ValueError("baryir app: no checkpoint to serve")
    limits = limits or AppLimits()
    print(describe_precision("auto", device))
    models = _Models(device)
    gate = NetworkGate(limits.queue_size)
    choices = [str(p) for p in checkpoints]
    # the swept folder itself (never removed while serving) or a new one
    outputs = files.path if files is not None else Path(tempfile.mkdtemp(prefix="baryir-app-"))
    holding = files.holding if files is not None else lambda paths: nullcontext()

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
        uploads = {Path(p): Path(p).name for p in (photo, reference) if p}
        target = Path(tempfile.mkdtemp(dir=outputs)) / f"{source.stem}-restored.png"
        with holding([*uploads, target.parent]):  # kept, whatever their age, until answered
            try:
                model = models.get(checkpoint)
                with gate.turn():
                    restore_file(
                        model,
                        source,
                        target,
                        tile=int(tile) or None,
                        device=device,
                        precision=precision,  # type: ignore[arg-type]
                        max_pixels=limits.max_pixels,
                    )
            except (BusyError, ImageReadError, OSError, ValueError) as error:
                raise gr.Error(_public(error, uploads, outputs)) from None
            said = ""
            if reference:
                try:
                    truth = read_image(Path(reference), limits.max_pixels)
                    psnr, ssim = psnr_ssim(read_image(target), truth)
                    said = (
                        f"restored against the reference: **{psnr:.2f} dB** PSNR, SSIM {ssim:.4f}"
                    )
                except (ImageReadError, ValueError, RuntimeError) as error:
                    said = f"no PSNR: {_public(error, uploads, outputs)}"
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
        gr.Markdown(limits.describe(), elem_id="limits")
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
        # Gradio lets every request in: the gate runs one at a time and answers busy past
        # queue_size waiting, with its own message
        inputs = [photo, reference, checkpoint, tile, precision]
        button.click(run, inputs, [slider, result, psnr], concurrency_limit=None)
        checkpoint.change(about, checkpoint, info)
    return page


def serve(
    checkpoints: list[Path],
    device: str,
    host: str,
    port: int | None,
    limits: AppLimits,
) -> str:
    """Serve the page until SIGTERM or Ctrl-C, then stop it and remove its files; the name of
    the signal that stopped it.

    All its files (Gradio's upload cache included) live in one temporary folder swept of files
    older than ``limits.keep_files`` (:class:`~baryir.io.sweep.SweptFolder`).
    """
    files = SweptFolder("baryir-app-", limits.keep_files, max(limits.keep_files / 10, 0.5))
    os.environ["GRADIO_TEMP_DIR"] = str(files.path / "gradio")  # Gradio reads it when built
    stopped = threading.Event()
    received: list[str] = []

    def stop(signum: int, frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stopped.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        page = build_app(checkpoints, device, limits, files)
        page.queue(max_size=limits.queue_size + 1)
        page.launch(
            server_name=host,
            server_port=port,
            show_error=False,  # an unexpected error's text may hold server paths: the log has it
            max_file_size=f"{limits.max_upload_mb}mb",
            prevent_thread_lock=True,
        )
        try:
            while not stopped.wait(0.5):
                pass
        finally:
            page.close()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        files.close()
    return received[0] if received else ""
