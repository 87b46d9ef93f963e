"""``baryir app`` under load: the real server (loopback only) answers a dozen requests from four
clients at once (real photos and bad files) with the right answer each, stays up, keeps its
temporary space bounded (swept back to where it started) and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from PIL import Image

from baryir.app import BusyError, NetworkGate

REPO = Path(__file__).resolve().parents[2]
REAL = Path(os.environ.get("BARYIR_SHARED_DATA", "/work/shared/data")) / "real"
PHOTOS = [
    "rainy/1.png",
    "rainy/2.png",
    "noisy-RNI15/Dog.png",
    "noisy-RNI15/Movie.png",
    "noisy-RNI15/Singer.png",
    "noisy-RNI15/Audrey_Hepburn.jpg",
    "lowlight-LIME/3.bmp",
]
TOO_MANY_PIXELS = "noisy-RNI15/Boy.png"  # 700x700 = 490000 pixels, over the test's limit
MAX_PIXELS = 400_000
MAX_UPLOAD_MB = 2
KEEP_FILES = 4  # seconds (a waiting request's upload is kept whatever its age)
DEADLINE = 240  # seconds for the whole exchange (startup included) on a loaded 2-core machine


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width x height`` (CRCs valid) with one byte of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _bad_files(folder: Path) -> dict[str, str]:
    """Bad uploads and what the answer to each must say."""
    folder.mkdir()
    (folder / "bomb.png").write_bytes(_png_header_only(60_000, 60_000))
    (folder / "cut.png").write_bytes((REAL / PHOTOS[0]).read_bytes()[:5000])
    (folder / "text.png").write_text("this is not an image\n")
    (folder / "big.png").write_bytes(os.urandom((MAX_UPLOAD_MB + 1) * 2**20))
    return {
        "bomb.png": "cannot read image bomb.png: too large",
        "cut.png": "cannot read image cut.png: truncated or corrupt",
        "text.png": "cannot read image text.png: not a recognised image format",
        # the client refuses it before uploading, as the browser does (and the server would)
        "big.png": f"exceeds the maximum file size of {MAX_UPLOAD_MB * 2**20} bytes",
    }


def _space(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gate_runs_one_at_a_time_and_answers_busy_past_the_queue() -> None:
    gate = NetworkGate(queue_size=1)
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def hold() -> None:
        with gate.turn():
            order.append("first in")
            inside.set()
            release.wait(10)
            order.append("first out")

    def wait_turn() -> None:
        with gate.turn():
            order.append("second in")

    first = threading.Thread(target=hold)
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=wait_turn)
    second.start()
    while gate.waiting < 1:  # the second caller waits for the network
        time.sleep(0.01)
    busy = r"^busy: 1 photos are waiting for the network; try again"
    with pytest.raises(BusyError, match=busy), gate.turn():
        pass
    release.set()
    first.join(10)
    second.join(10)
    assert order == ["first in", "first out", "second in"]  # never two at once
    with gate.turn():  # free again
        assert gate.waiting == 0


def test_server_under_load_answers_every_request_and_stays_bounded(tmp_path: Path) -> None:
    pytest.importorskip("gradio", reason="the app needs pip install 'baryir[app]'")
    client_module = pytest.importorskip("gradio_client", reason="gradio_client comes with gradio")
    if not (REAL / PHOTOS[0]).is_file():
        pytest.skip(f"no real photos under {REAL} (the shared data, MANIFEST.md)")
    from baryir.models import create_model, export_model

    torch.manual_seed(0)
    weights = export_model(create_model("baryir-tiny", dim=8), tmp_path / "tiny.safetensors")
    bad = _bad_files(tmp_path / "bad")
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TMPDIR": str(server_tmp),
        "PYTHONPATH": str(REPO / "src"),
    }
    env.pop("GRADIO_TEMP_DIR", None)
    command = [
        sys.executable,
        "-m",
        "baryir",
        "app",
        "--ckpt",
        str(weights),
        "--port",
        str(port),
        "--max-upload-mb",
        str(MAX_UPLOAD_MB),
        "--max-pixels",
        str(MAX_PIXELS),
        "--queue-size",
        "16",
        "--keep-files",
        str(KEEP_FILES),
    ]
    log = (tmp_path / "app.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + DEADLINE
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "app.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "baryir app did not start"
                time.sleep(0.5)
        before = _space(server_tmp)

        requests = [REAL / p for p in PHOTOS] + [REAL / TOO_MANY_PIXELS]
        requests += [tmp_path / "bad" / name for name in bad]
        expected = dict(bad)
        expected[Path(TOO_MANY_PIXELS).name] = (
            f"cannot read image Boy.png: 700x700 = 490000 pixels exceeds the limit of "
            f"{MAX_PIXELS} (decompression bomb guard; baryir app --max-pixels sets it)"
        )

        def ask(paths: list[Path]) -> list[tuple[Path, object]]:
            client = client_module.Client(
                url, verbose=False, download_files=str(tmp_path / "client")
            )
            answers = []
            for path in paths:
                try:
                    answer = client.predict(
                        client_module.handle_file(str(path)),
                        None,
                        str(weights),
                        0,
                        "fp32",
                        api_name="/run",
                    )
                except Exception as error:  # noqa: BLE001 - the answer to check
                    answer = error
                answers.append((path, answer))
            return answers

        shares = [requests[i::4] for i in range(4)]  # four clients, three requests each
        with ThreadPoolExecutor(4) as pool:
            answers = [a for share in pool.map(ask, shares) for a in share]
        assert len(answers) == len(requests) == 12
        restored = 0
        for path, answer in answers:
            if path.name in expected:
                said = str(answer)
                assert isinstance(answer, Exception), (path, answer)
                assert expected[path.name] in said, (path, said)
                assert str(server_tmp) not in said and "/gradio/" not in said, said
                continue
            assert not isinstance(answer, Exception), (path, answer)
            slider, result, _ = answer
            with Image.open(result) as output, Image.open(path) as photo:
                assert output.size == photo.size and output.format == "PNG"
            restored += 1
        assert restored == len(PHOTOS)
        assert server.poll() is None  # still up
        rss = next(
            line
            for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
            if line.startswith("VmHWM")
        )
        during = _space(server_tmp)
        while _space(server_tmp) > before + 2**20:  # swept after KEEP_FILES seconds
            assert time.monotonic() < deadline, f"temporary space still {_space(server_tmp)}"
            time.sleep(1)
        after = _space(server_tmp)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        print(
            f"\n12 requests from 4 clients: {restored} restored, {len(expected)} refused; "
            f"peak {rss}; temporary space {before} B before, {during} B after the "
            f"answers, {after} B after the sweep, {_space(server_tmp)} B after SIGTERM"
        )
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
        log.close()
    said = (tmp_path / "app.log").read_text()
    assert "baryir app: stopped by SIGTERM; its temporary files are removed" in said, said[-3000:]
    assert not list(server_tmp.glob("baryir-app-*"))  # the server's folder is gone
