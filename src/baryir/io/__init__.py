"""Safe image and weights I/O."""

from baryir.io.atomic import atomic_path
from baryir.io.checkpoint import (
    CheckpointError,
    UnsafeCheckpointError,
    atomic_save,
    export_weights,
    load_checkpoint,
    load_weights,
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

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_PIXELS",
    "CheckpointError",
    "ImageInfo",
    "ImageReadError",
    "UnsafeCheckpointError",
    "atomic_path",
    "atomic_save",
    "export_weights",
    "list_images",
    "load_checkpoint",
    "load_weights",
    "read_image",
    "read_image_info",
    "write_image",
]
