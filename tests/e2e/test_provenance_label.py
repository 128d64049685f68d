"""The AI label survives delivery: a generated image's variants, in every format and through both forms of
the proxy's source cache, carry the provenance XMP that the real generator's origin response announced;
an ingested photo's variants carry none. Read back with ExifTool."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from imgedge.cache.config import CacheConfig
from imgedge.formats import BY_NAME
from imgedge.generator.app import create_app as create_generator
from imgedge.generator.assets.canonical import canonicalize
from imgedge.generator.assets.records import Provenance
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.diffusers_directory import DiffusersDirectoryBackend
from imgedge.generator.outbound.transform_urls import TransformUrls
from imgedge.generator.storage.database import SqliteDatabase
from imgedge.generator.wiring import open_asset_store
from imgedge.provenance import TRAINED_ALGORITHMIC_MEDIA
from imgedge.proxy.app import create_app as create_proxy
from imgedge.proxy.config import ProxyConfig
from imgedge.url.build import build_path
from tests.conftest import photo, running
from tests.imaging.exiftool import exiftool_tags, metadata_groups

KEY = b"provenance-key"
PUBLIC_GENERATOR = "https://gen.example.com"
PROMPT = "a lighthouse at dusk"


@dataclass
class Assets:
    proxy: str
    generated: str
    ingested: str


def _generate(generator_url: str) -> str:
    with httpx.Client(base_url=generator_url, timeout=60) as client:
        body = {"prompt": PROMPT, "width": 64, "height": 64, "steps": 2, "seed": 3}
        job = client.post("/v1/images", json=body).json()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = client.get(f"/v1/jobs/{job['job_id']}").json()
            if status["status"] == "done":
                return str(status["asset_id"])
            assert status["status"] != "failed", status
            time.sleep(0.05)
    raise AssertionError("generation did not finish")


@pytest.fixture(scope="module")
def assets(
    tmp_path_factory: pytest.TempPathFactory, tiny_model: DiffusersDirectoryBackend
) -> Iterator[Assets]:
    tmp: Path = tmp_path_factory.mktemp("provenance")
    config = GeneratorConfig(
        data_dir=tmp / "generator", proxy_token="origin-token", admin_token="admin", upload_secret="u",
        webhook_secret="whsec_" + "QUJD" * 8, proxy_url="http://127.0.0.1:9", eager_variants=False,
        janitor_interval_s=3600, public_generator_url=PUBLIC_GENERATOR,
    )  # fmt: skip
    generator = create_generator(config, model=tiny_model, urls=TransformUrls(KEY, (64,), ""))
    store = open_asset_store(config, SqliteDatabase(config.db_path))
    photo_png = bytes(photo("coffee", 96).write_to_buffer(".png"))
    ingested = store.put(canonicalize(photo_png, max_pixels=10**7), Provenance(origin="ingest")).id
    with running(generator) as generator_url:
        generated = _generate(generator_url)
        proxy_config = ProxyConfig(
            data_dir=tmp / "proxy", keys=(KEY,), origin_url=generator_url, origin_token="origin-token"
        )
        proxy = create_proxy(proxy_config, cache_config=CacheConfig(disk_dir=tmp / "proxy" / "cache"))
        with running(proxy) as proxy_url:
            yield Assets(proxy_url, generated, ingested)


def fetch(proxy: str, asset_id: str, **options: object) -> bytes:
    response = httpx.get(proxy + build_path(asset_id, key=KEY, **options), timeout=60)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize("fmt", ["avif", "webp", "jpeg", "png"])
def test_every_variant_of_a_generated_image_is_labelled(assets: Assets, fmt: str) -> None:
    record = f"{PUBLIC_GENERATOR}/v1/images/{assets.generated}"
    # w:48 comes from the raw-pixel source cache; strip:0 from the encoded original; w:40 is a second
    # variant made from the cached pixels.
    for options in ({"width": 48}, {"width": 48, "extra": ["strip:0"]}, {"width": 40}):
        tags = exiftool_tags(fetch(assets.proxy, assets.generated, fmt=fmt, **options), BY_NAME[fmt].suffix)
        assert tags["XMP-iptcExt:DigitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA, (options, tags)
        assert tags["XMP-dcterms:Provenance"] == record, (options, tags)
        assert PROMPT not in str(tags), "the prompt is published only when the operator opts in"


def test_stripped_variants_carry_nothing_else(assets: Assets) -> None:
    tags = exiftool_tags(fetch(assets.proxy, assets.generated, fmt="png", width=48), ".png")
    assert metadata_groups(tags) == {"XMP-iptcExt", "XMP-dcterms"}, tags


@pytest.mark.parametrize("fmt", ["avif", "webp", "jpeg", "png"])
def test_an_ingested_photo_gets_no_label(assets: Assets, fmt: str) -> None:
    tags = exiftool_tags(fetch(assets.proxy, assets.ingested, fmt=fmt, width=48), BY_NAME[fmt].suffix)
    assert metadata_groups(tags) == set(), tags
