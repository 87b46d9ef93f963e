"""Safe image and weights I/O: every read checked, every write atomic."""

from baryir.io.atomic import atomic_path, atomic_write_text
from baryir.io.checkpoint import (
    CheckpointError,
    UnsafeCheckpointError,
    atomic_save,
    export_weights,
    load_checkpoint,
    load_weights,
    network_state_from_lightning,
    unwrap_state_dict,
)
from baryir.io.image import (
    IMAGE_EXTENSIONS,
    MAX_IMAGE_PIXELS,
    ImageInfo,
    ImageReadError,
    list_images,
    read_image,
    read_image_info,
    write_image,
)
from baryir.io.module_pickle import read_module_checkpoint

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_PIXELS",
    "CheckpointError",
    "ImageInfo",
    "ImageReadError",
    "UnsafeCheckpointError",
    "atomic_path",
    "atomic_save",
    "atomic_write_text",
    "export_weights",
    "list_images",
    "load_checkpoint",
    "load_weights",
    "network_state_from_lightning",
    "read_image",
    "read_image_info",
    "read_module_checkpoint",
    "unwrap_state_dict",
    "write_image",
]
