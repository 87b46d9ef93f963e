"""Commands of ``baryir`` that run without a Trainer: one module each, holding a typed ``run``.

:mod:`baryir.cli` parses their arguments from ``run``'s signature and docstring.
"""

from pathlib import Path

import torch

__all__ = ["DEFAULT_DEVICE", "check_device", "check_output_folder"]

DEFAULT_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
"""Where networks run unless ``--device`` says otherwise."""


def check_device(device: str) -> torch.device:
    """``--device`` as a ``torch.device`` that this machine has.

    Raises:
        ValueError: not a device name, or CUDA asked for where torch has none (or no GPU).
    """
    try:
        found = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"--device {device}: not a device ({error})") from None
    if found.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"--device {device}: no CUDA GPU here (torch {torch.__version__} sees none); "
                "use --device cpu"
            )
        if found.index is not None and found.index >= count:
            raise ValueError(f"--device {device}: only {count} CUDA device(s) here")
    return found


def check_output_folder(output: Path) -> None:
    """``--output`` must be a folder (created when missing), not an existing file.

    Raises:
        NotADirectoryError: ``output`` is a file.
    """
    if output.exists() and not output.is_dir():
        raise NotADirectoryError(
            f"--output {output} is a file: give a folder (created if missing) for the outputs"
        )
