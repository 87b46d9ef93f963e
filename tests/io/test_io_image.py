"""baryir.io.image: conversions with known answers, errors, atomic writes."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from baryir.io import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    list_images,
    read_image,
    read_image_info,
    write_image,
)


def _rgb_array(height: int = 6, width: int = 9, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _with_ihdr_size(png: bytes, width: int, height: int) -> bytes:
    """Rewrite the IHDR width/height of a PNG (with a valid CRC), keeping the pixel data."""
    ihdr = bytearray(png[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    return png[:8] + _chunk(b"IHDR", bytes(ihdr)) + png[33:]


def _with_exif_orientation(png: bytes, orientation: int) -> bytes:
    """Insert an eXIf chunk with the given orientation after IHDR."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = exif.tobytes()
    data = data.removeprefix(b"Exif\x00\x00")
    return png[:33] + _chunk(b"eXIf", data) + png[33:]


def _assert_one_line_naming(error: pytest.ExceptionInfo, path: Path) -> None:
    message = str(error.value)
    assert "\n" not in message
    assert str(path) in message


def test_rgb_png_roundtrip_exact(tmp_path: Path) -> None:
    array = _rgb_array()
    Image.fromarray(array).save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    assert image.shape == (3, 6, 9) and image.dtype == torch.float32
    torch.testing.assert_close(image, torch.from_numpy(array).permute(2, 0, 1).float() / 255)
    write_image(tmp_path / "b.png", image)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "b.png")), array)


@pytest.mark.parametrize("mode", ["L", "1", "P", "RGBA", "LA", "CMYK", "I;16"])
def test_modes_convert_to_rgb(tmp_path: Path, mode: str) -> None:
    rgb = Image.fromarray(_rgb_array())
    source = rgb.convert("L").convert("I;16") if mode == "I;16" else rgb.convert(mode)
    path = tmp_path / ("x.tif" if mode == "CMYK" else "x.png")
    source.save(path)
    image = read_image(path)
    assert image.shape == (3, 6, 9)
    if mode == "I;16":  # the L values, stored in 16 bits, read back with /65535
        expected = np.asarray(rgb.convert("L"), dtype=np.float32)[..., None].repeat(3, -1) / 65535
    else:  # alpha dropped, everything else as Pillow converts it
        expected = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
    torch.testing.assert_close(image, torch.from_numpy(expected).permute(2, 0, 1))


def test_alpha_is_dropped_not_composited(tmp_path: Path) -> None:
    array = _rgb_array()
    rgba = np.dstack([array, np.zeros(array.shape[:2], np.uint8)])  # fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    expected = torch.from_numpy(array).permute(2, 0, 1).float() / 255
    torch.testing.assert_close(read_image(tmp_path / "a.png"), expected)


def test_16bit_gray_keeps_precision(tmp_path: Path) -> None:
    values = torch.arange(0, 65536, 257 * 3 + 1, dtype=torch.float64)[:60] / 65535
    gray = values.view(1, 6, 10).float()
    write_image(tmp_path / "g.png", gray, bit_depth=16)
    assert read_image_info(tmp_path / "g.png").bit_depth == 16
    image = read_image(tmp_path / "g.png")
    torch.testing.assert_close(image, gray.expand(3, -1, -1), atol=1e-7, rtol=0)


def test_16bit_rgb_keeps_precision(tmp_path: Path) -> None:
    array = np.random.default_rng(1).integers(0, 65536, (5, 7, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "c.png"), array[..., ::-1])
    image = read_image(tmp_path / "c.png")
    expected = torch.from_numpy(array.astype(np.float32) / 65535).permute(2, 0, 1)
    torch.testing.assert_close(image, expected, atol=1e-7, rtol=0)
    assert (image * 255 - (image * 255).round()).abs().max() > 0.01  # not 8-bit levels
    write_image(tmp_path / "d.png", image, bit_depth=16)
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "d.png"), -1)[..., ::-1], array)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_8bit_and_16bit(tmp_path: Path, orientation: int) -> None:
    array16 = np.random.default_rng(2).integers(0, 65536, (4, 7, 3), dtype=np.uint16)
    array8 = (array16 >> 8).astype(np.uint8)
    png8 = io.BytesIO()
    Image.fromarray(array8).save(png8, format="PNG")
    png16 = cv2.imencode(".png", array16[..., ::-1])[1].tobytes()
    (tmp_path / "a8.png").write_bytes(_with_exif_orientation(png8.getvalue(), orientation))
    (tmp_path / "a16.png").write_bytes(_with_exif_orientation(png16, orientation))

    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "a8.png")))
    assert expected.shape[:2] == ((7, 4) if orientation >= 5 else (4, 7))
    got8 = (read_image(tmp_path / "a8.png") * 255).round().byte().permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(got8, expected)
    got16 = (read_image(tmp_path / "a16.png").double() * 65535).round().long()
    np.testing.assert_array_equal((got16 >> 8).permute(1, 2, 0).numpy(), expected)


def _png_bytes(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_rgb_array(height, width)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("missing.png", None, "not found"),
        ("empty.png", b"", "empty"),
        ("text.png", b"this is not an image at all", "not a recognised image"),
        ("truncated.png", "truncated", "truncated"),
        ("zero.png", "zero", "not a recognised image"),  # Pillow refuses a 0 x 8 PNG header
    ],
)
def test_unreadable_files_raise_one_line(
    tmp_path: Path, name: str, content: bytes | str | None, fragment: str
) -> None:
    path = tmp_path / name
    if content == "truncated":
        path.write_bytes(_png_bytes(64, 64)[:-200])
    elif content == "zero":
        path.write_bytes(_with_ihdr_size(_png_bytes(), 0, 8))
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageReadError, match=fragment) as error:
        read_image(path)
    _assert_one_line_naming(error, path)
    assert isinstance(error.value, ValueError)


def test_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="directory") as error:
        read_image(tmp_path)
    _assert_one_line_naming(error, tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file modes")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "locked.png"
    path.write_bytes(_png_bytes())
    path.chmod(0)
    with pytest.raises(ImageReadError, match="permission"):
        read_image(path)


def test_decompression_bomb_refused_before_decoding(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(_with_ihdr_size(_png_bytes(), 20_000, 20_000))  # declares 400 M pixels
    with pytest.raises(ImageReadError, match="too large|exceeds") as error:
        read_image(path)
    _assert_one_line_naming(error, path)
    small = tmp_path / "small.png"
    small.write_bytes(_png_bytes(10, 10))
    with pytest.raises(ImageReadError, match="exceeds the limit of 50"):
        read_image(small, max_pixels=50)
    assert read_image(small, max_pixels=100).shape == (3, 10, 10)
    assert before == Image.MAX_IMAGE_PIXELS  # global state untouched


def test_write_quantises_with_round_and_clamp(tmp_path: Path) -> None:
    values = torch.tensor([-0.3, 0.0, 0.49 / 255, 0.51 / 255, 127.5 / 255 + 1e-4, 1.0, 1.7])
    write_image(tmp_path / "q.png", values.view(1, 1, -1))
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / "q.png"))[0], [0, 0, 0, 1, 128, 255, 255]
    )


def test_write_creates_parents_and_rejects_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c.png"
    write_image(path, torch.rand(3, 4, 5))
    assert path.is_file()
    for bad in (torch.rand(2, 4, 5), torch.rand(4, 5), torch.zeros(3, 4, 5, dtype=torch.uint8)):
        with pytest.raises(ValueError, match="write_image"):
            write_image(tmp_path / "bad.png", bad)
    with pytest.raises(ValueError, match="NaN"):
        write_image(tmp_path / "bad.png", torch.full((3, 2, 2), float("nan")))
    with pytest.raises(ValueError, match="16-bit"):
        write_image(tmp_path / "bad.jpg", torch.rand(3, 4, 5), bit_depth=16)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_write_is_atomic_on_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keep.png"
    write_image(path, torch.zeros(3, 4, 4))
    original = path.read_bytes()

    def failing_save(self: Image.Image, fp: Path, format: str | None = None) -> None:
        Path(fp).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        write_image(path, torch.ones(3, 4, 4))
    with pytest.raises(OSError, match="disk full"):
        write_image(tmp_path / "new.png", torch.ones(3, 4, 4))
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]  # no temp files left


def test_list_images_sorted_filtered(tmp_path: Path) -> None:
    for name in ["b.png", "a.JPG", "c.tiff", "notes.txt", ".hidden.png", "d.webp", "e.bmp"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.png").write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == [
        "a.JPG",
        "b.png",
        "c.tiff",
        "d.webp",
        "e.bmp",
    ]
    assert [p.name for p in list_images(tmp_path, recursive=True)][-1] == "f.png"
    assert ".jpeg" in IMAGE_EXTENSIONS
    with pytest.raises(FileNotFoundError, match="missing"):
        list_images(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    assert list_images(tmp_path / "empty") == []
    with pytest.raises(ValueError, match="no image files .* found in .*empty"):
        list_images(tmp_path / "empty", allow_empty=False)


def test_read_image_info(tmp_path: Path) -> None:
    Image.fromarray(_rgb_array(6, 9)).convert("P").save(tmp_path / "p.png")
    info = read_image_info(tmp_path / "p.png")
    assert (info.width, info.height, info.mode, info.bit_depth, info.format) == (
        9,
        6,
        "P",
        8,
        "PNG",
    )


def test_real_files_from_shared_data(shared_data: Path) -> None:
    for relative in [
        "McMaster/1.tif",
        "real/lowlight-LIME/1.bmp",
        "real/noisy-RNI15/Audrey_Hepburn.jpg",
    ]:
        path = shared_data / relative
        if not path.is_file():
            pytest.skip(f"{relative} not found at {path}")
        image = read_image(path)
        width, height = read_image_info(path)[:2]
        assert image.shape == (3, height, width)
        assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
