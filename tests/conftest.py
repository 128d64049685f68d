from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import pyvips
import uvicorn
from skimage import data as skdata
from starlette.types import ASGIApp

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.diffusers_directory import DiffusersDirectoryBackend
from imgedge.imaging.requirements import require_libvips
from imgedge.web.uvicorn_args import PROTOCOL
from tests.engines.postgres import PostgresServer, postgres_cluster
from tests.engines.s3 import S3Server, rclone_s3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def running(app: ASGIApp, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app over real HTTP on 127.0.0.1 in a background thread."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", http=PROTOCOL,
            proxy_headers=False,
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextlib.contextmanager
def libvips_blocked(*operations: str) -> Iterator[None]:
    """libvips' own switch for refusing operations: a real library failure, on input that is fine."""
    require_libvips()  # its facts (and the saver options it caches) are gathered with nothing blocked
    for name in operations:
        pyvips.operation_block_set(name, True)
    try:
        yield
    finally:
        for name in operations:
            pyvips.operation_block_set(name, False)


def photo(name: str, size: int | None = None) -> pyvips.Image:
    array = getattr(skdata, name)()
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    image = pyvips.Image.new_from_array(np.ascontiguousarray(array[..., :3]), interpretation="srgb")
    if size:
        image = image.thumbnail_image(size, height=size, size="force")
    return image


@pytest.fixture(scope="session")
def photo_png() -> bytes:
    """A real photo as a 1024x1024 PNG original."""
    return bytes(photo("astronaut", 1024).write_to_buffer(".png"))


@pytest.fixture(scope="session")
def landscape_png() -> bytes:
    """A real photo that is not square (coffee, 600x400 → 900x600)."""
    image = photo("coffee")
    return bytes(image.resize(1.5).write_to_buffer(".png"))


@pytest.fixture(scope="session")
def alpha_png() -> bytes:
    image = photo("chelsea")
    alpha = (image.extract_band(0) > 128).ifthenelse(255, 0).cast("uchar")
    return bytes(image.bandjoin(alpha).copy(interpretation="srgb").write_to_buffer(".png"))


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


# The tiny built-in model, built once per session: every package's tests that generate share it, and the
# multi-process tests copy it into each worker's data dir.
@pytest.fixture(scope="session")
def model_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from imgedge.generator.models.tiny import ensure_tiny_model

    data = tmp_path_factory.mktemp("model-data")
    ensure_tiny_model(data / "models" / "tiny")
    return data


@pytest.fixture(scope="session")
def tiny_model(model_data_dir: Path) -> DiffusersDirectoryBackend:
    return DiffusersDirectoryBackend.load(GeneratorConfig(data_dir=model_data_dir))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster per test session; each test makes its own database in it."""
    with postgres_cluster() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One `rclone serve s3` per test session; each test makes its own bucket in it."""
    with rclone_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server
