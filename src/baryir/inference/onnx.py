"""Export a restoration network as ONNX, and run an exported file with ONNX Runtime.

The exported graph takes ``image`` ``(1, 3, H, W)`` float32 in ``[0, 1]`` (one image; dynamic
height and width) and returns ``restored`` of the same shape (not clamped, as the network's own
output): the padding to a multiple of the network's stride (reflect) and the crop back are
part of the graph, so any side of at least the stride works. Needs ``pip install
'baryir[onnx]'`` (``onnx``; ``onnxruntime`` to run it).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["OnnxGraph", "OnnxRuntimeNetwork", "export_onnx", "onnx_opset"]

EXAMPLE_SIDES = (37, 53)
"""Height and width of the tracing example: not multiples of any stride, so the padding of the
graph is traced (an example needing none would leave it out)."""


class OnnxGraph(nn.Module):
    """What is exported: ``image (1, 3, H, W) -> restored (1, 3, H, W)``.

    Pads the bottom and right to a multiple of ``network.stride`` with reflection (zero
    padding when the sides already are multiples), runs ``network.forward_padded`` and crops
    back: :meth:`RestorationModel.forward` with the padding written so that the traced graph
    keeps it for every size.
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network
        self.stride = int(getattr(network, "stride", 1))

    def forward(self, image: Tensor) -> Tensor:
        height, width = image.shape[-2:]
        pad_h, pad_w = (-height) % self.stride, (-width) % self.stride
        padded = F.pad(image, (0, pad_w, 0, pad_h), mode="reflect")
        forward = getattr(self.network, "forward_padded", self.network)
        output = forward(padded)
        restored = output if isinstance(output, Tensor) else output.restored
        return restored[..., :height, :width]


def export_onnx(network: nn.Module, path: Path, opset: int | None = None) -> int:
    """Write ``network`` (eval mode, float32) to ``path`` as ONNX; returns the opset written.

    Raises a ``ValueError`` naming the operator when the network uses one the exporter cannot
    write (AdaIR's ``torch.fft``).

    ``opset``: default, the installed exporter's (``torch.onnx``'s TorchScript exporter: its
    graphs of these networks run in ONNX Runtime; the ``torch.export`` one took minutes and
    wrote an invalid graph for them with torch 2.13).
    """
    import onnx

    graph = OnnxGraph(network).eval().float()
    example = torch.rand(1, 3, *EXAMPLE_SIDES, generator=torch.Generator().manual_seed(0))
    axes = {2: "height", 3: "width"}
    arguments: dict[str, Any] = {} if opset is None else {"opset_version": opset}
    with warnings.catch_warnings(), torch.no_grad():
        # the exporter's notices (legacy exporter, traced shape arithmetic) are no news here
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                graph,
                (example,),
                str(path),
                input_names=["image"],
                output_names=["restored"],
                dynamic_axes={"image": axes, "restored": axes},
                dynamo=False,
                **arguments,
            )
        except torch.onnx.errors.UnsupportedOperatorError as error:
            # AdaIR's frequency split (torch.fft) has no ONNX operator in this exporter
            raise ValueError(
                f"{type(network).__name__} cannot be exported to ONNX: {error}"
            ) from None
    onnx.checker.check_model(str(path))
    return onnx_opset(path)


def onnx_opset(path: Path) -> int:
    """The default-domain opset of the ONNX file ``path``."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))


class OnnxRuntimeNetwork(nn.Module):
    """An exported ``.onnx`` file behind the network interface of :func:`~baryir.inference.restore`:
    ``(B, 3, H, W)`` float tensor in (one image at a time), restored tensor out, computed by
    ONNX Runtime on the CPU.

    Args:
        path: an ONNX file written by :func:`export_onnx`.
        threads: ONNX Runtime's intra-op threads (default: torch's).
    """

    def __init__(self, path: Path, threads: int | None = None) -> None:
        super().__init__()
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def forward(self, image: Tensor) -> Tensor:
        array = np.ascontiguousarray(image.detach().float().cpu().numpy())
        restored = [self.session.run(["restored"], {"image": one[None]})[0] for one in array]
        return torch.from_numpy(np.concatenate(restored)).to(image.device)
