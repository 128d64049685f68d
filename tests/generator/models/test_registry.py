from __future__ import annotations

from pathlib import Path

import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.backend import ModelLoadError
from imgedge.generator.models.diffusers_directory import DiffusersDirectoryBackend
from imgedge.generator.models.registry import MODEL_BACKENDS, load_model
from imgedge.generator.models.request import GenerationRequest


def test_the_diffusers_directory_backend_is_the_default() -> None:
    assert MODEL_BACKENDS["diffusers"] is DiffusersDirectoryBackend


def test_unknown_backends_and_directories_are_named_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="unknown model backend 'onnx'"):
        load_model(GeneratorConfig(data_dir=tmp_path), backend="onnx")
    with pytest.raises(ModelLoadError, match=r"model_index\.json"):
        load_model(GeneratorConfig(data_dir=tmp_path, model=str(tmp_path)))


def test_a_backend_gives_pixels_of_the_requested_size(tiny_model: DiffusersDirectoryBackend) -> None:
    request = GenerationRequest(prompt="p", width=128, height=64, seed=2, steps=1, guidance=1.0)
    image = tiny_model.generate(request)
    assert image.pixels.shape == (64, 128, 3)
    assert float(image.pixels.min()) >= 0.0 and float(image.pixels.max()) <= 1.0
    assert image.flagged is None  # the tiny model has no safety checker
    assert (tiny_model.generate(request).pixels == image.pixels).all()
