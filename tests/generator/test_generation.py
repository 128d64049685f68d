from __future__ import annotations

import base64

import pyvips

from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.assets.png_provenance import TRAINED_ALGORITHMIC_MEDIA, XMP_KEYWORD, read_text
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.generation import generate, make_asset
from imgedge.generator.models.diffusers_directory import DiffusersDirectoryBackend
from imgedge.generator.models.request import GenerationRequest, size_for_aspect
from tests.generator.conftest import store_for


def request(**overrides: object) -> GenerationRequest:
    fields: dict[str, object] = {
        "prompt": "a lighthouse at dusk", "width": 64, "height": 64, "seed": 7, "steps": 2, "guidance": 2.0,
    }  # fmt: skip
    fields.update(overrides)
    return GenerationRequest(**fields)  # type: ignore[arg-type]


def test_same_request_gives_same_bytes_and_asset_id(tiny_model: DiffusersDirectoryBackend) -> None:
    first = generate(tiny_model, request())
    second = generate(tiny_model, request())
    assert first.canonical.png == second.canonical.png
    assert first.canonical.asset_id == second.canonical.asset_id


def test_seed_and_prompt_change_the_image(tiny_model: DiffusersDirectoryBackend) -> None:
    base = generate(tiny_model, request()).canonical.asset_id
    assert generate(tiny_model, request(seed=8)).canonical.asset_id != base
    assert generate(tiny_model, request(prompt="a forest")).canonical.asset_id != base


def test_output_is_a_png_of_the_requested_size_with_texture(tiny_model: DiffusersDirectoryBackend) -> None:
    generated = generate(tiny_model, request(width=128, height=64))
    image = pyvips.Image.new_from_buffer(generated.canonical.png, "")
    assert (image.width, image.height, image.bands) == (128, 64, 3)
    assert (generated.canonical.width, generated.canonical.height) == (128, 64)
    assert image.deviate() > 0  # not a flat fill
    assert generated.flagged is None


def test_provenance_is_embedded_in_the_png(tiny_model: DiffusersDirectoryBackend) -> None:
    generated = generate(tiny_model, request(negative_prompt="blurry"))
    text = read_text(generated.canonical.png)
    assert text["imgedge:prompt"] == "a lighthouse at dusk"
    assert text["imgedge:negative_prompt"] == "blurry"
    assert text["imgedge:seed"] == "7"
    assert text["imgedge:model_hash"] == tiny_model.model_hash
    assert text["imgedge:scheduler"] == "EulerDiscreteScheduler"
    assert TRAINED_ALGORITHMIC_MEDIA in text[XMP_KEYWORD]
    p = generated.provenance
    assert (p.origin, p.model, p.seed, p.steps, p.guidance) == ("generated", tiny_model.model_id, 7, 2, 2.0)


def test_make_asset_moderates_and_stores_what_it_generated(
    tiny_model: DiffusersDirectoryBackend, config: GeneratorConfig
) -> None:
    store = store_for(config)
    held = ModerationPolicy((), ("lighthouse",), review_all=False)
    made = make_asset(tiny_model, request(temporary=True), held, store, temporary_ttl_s=60)
    assert made.verdict.state == "pending" and made.record.moderation == "pending"
    assert made.record.temporary and made.record.expires_at is not None
    assert made.generation_seconds > 0
    assert store.read(made.record.id) == generate(tiny_model, request()).canonical.png
    assert made.record.provenance.prompt == "a lighthouse at dusk"


def test_an_aspect_ratio_original_has_exactly_that_ratio(tiny_model: DiffusersDirectoryBackend) -> None:
    width, height = size_for_aspect("16:9")
    generated = generate(tiny_model, request(width=width, height=height, steps=1))
    image = pyvips.Image.new_from_buffer(generated.canonical.png, "")
    assert (image.width, image.height) == (672, 378)
    assert image.width * 9 == image.height * 16
    variant = image.thumbnail_image(320)
    assert (variant.width, variant.height) == (320, 180)
    assert image.deviate() > 0  # the crop of a real generation, not padding


def test_make_asset_stores_placeholders_with_the_asset(
    tiny_model: DiffusersDirectoryBackend, config: GeneratorConfig
) -> None:
    store = store_for(config)
    made = make_asset(tiny_model, request(), ModerationPolicy.from_config(config), store, temporary_ttl_s=60)
    found = store.placeholder_rows.get(made.record.id, 64, 64)
    assert found is not None
    assert found.lqip.startswith("data:image/webp;base64,")
    assert len(base64.b64decode(found.thumbhash)) > 5 and len(found.blurhash) == 4 + 2 * 4 * 3
    assert found.dominant_color.startswith("#") and len(found.average_color) == 7
