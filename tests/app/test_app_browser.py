"""``baryir app`` in a real browser: headless Chromium uploads a bundled photo through the page
and gets back, byte for byte, what ``baryir restore`` writes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _photo() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent / "chelsea.png"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """``python -m baryir app`` on a free local port with a tiny network's weights."""
    pytest.importorskip("gradio", reason="the app needs pip install 'baryir[app]'")
    pytest.importorskip("playwright", reason="the browser test needs playwright (dev extra)")
    if CHROMIUM is None:
        pytest.skip("no Chromium here (Debian: apt-get install chromium); .ci/run installs it")
    from baryir.models import create_model, export_model

    root = tmp_path_factory.mktemp("app")
    torch.manual_seed(0)
    weights = export_model(create_model("baryir-tiny", dim=8), root / "tiny.safetensors")
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONPATH": str(REPO / "src")}  # fmt: skip
    log = (root / "app.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "baryir", "app", "--ckpt", str(weights), "--port", str(port)],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"baryir app did not start:\n{(root / 'app.log').read_text()[-3000:]}")
            time.sleep(0.5)
    yield url, weights, root
    process.terminate()
    process.wait(timeout=30)


def test_page_restores_like_baryir_restore(served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, weights, _ = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(url)
        assert "baryir-tiny" in page.locator("#about").inner_text(timeout=60000)
        page.set_input_files("#photo input[type=file]", str(_photo()))
        page.wait_for_timeout(1000)
        page.click("#restore")
        link = page.wait_for_selector("#result a", timeout=120000)
        href = link.get_attribute("href")
        restored = page.request.get(href if href.startswith("http") else url + href).body()
        page.wait_for_timeout(500)
        page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
        if os.environ.get("BARYIR_APP_SCREENSHOT"):  # docs/app.png, taken on purpose only
            page.screenshot(path=os.environ["BARYIR_APP_SCREENSHOT"], full_page=True)
        browser.close()
    # baryir restore, in a process with the app's threads (float sums depend on them)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "baryir", "restore", str(_photo()), "--ckpt", str(weights)]
    done = subprocess.run([*command, "--output", str(tmp_path / "restore")], env=env, check=False)
    assert done.returncode == 0
    assert restored == (tmp_path / "restore" / "chelsea.png").read_bytes()
    assert (tmp_path / "app.png").read_bytes()[:4] == b"\x89PNG"


def test_page_says_why_a_file_cannot_be_restored(served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, _, _ = served
    bad = tmp_path / "broken.png"
    bad.write_bytes(_photo().read_bytes()[:300])  # a cut PNG: the header reads, the pixels not
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#photo input[type=file]", state="attached", timeout=60000)
        page.set_input_files("#photo input[type=file]", str(bad))
        page.wait_for_timeout(1000)
        page.click("#restore")
        toast = page.get_by_text("cannot read image", exact=False).first
        toast.wait_for(timeout=60000)
        assert "broken" in toast.inner_text()
        browser.close()
