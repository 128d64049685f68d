from __future__ import annotations

import json
import os
import time
from pathlib import Path

from transformers import CLIPTokenizer

from imgedge.atomic import TEMP_PREFIX
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.diffusers_directory import TINY_MODEL_ID, DiffusersDirectoryBackend
from imgedge.generator.models.model_hash import hash_model_dir
from imgedge.generator.models.tiny import byte_level_vocab, ensure_tiny_model


def test_vocab_covers_every_byte_as_word_piece_and_word_end() -> None:
    vocab = byte_level_vocab()
    assert len(vocab) == 2 * 256 + 2
    assert len(set(vocab.values())) == len(vocab)


def test_tokenizer_handles_any_text_within_77_tokens(tiny_model: DiffusersDirectoryBackend) -> None:
    tokenizer: CLIPTokenizer = tiny_model.pipeline.tokenizer
    assert tokenizer.model_max_length == 77
    ids = tokenizer("Ünïcödé ☃ prompt, with punctuation!", truncation=True, max_length=77).input_ids
    unk = tokenizer.convert_tokens_to_ids(tokenizer.unk_token)
    assert unk not in ids[1:-1]


def test_built_once_then_loaded_from_disk(
    tiny_model: DiffusersDirectoryBackend, model_data_dir: Path
) -> None:
    target = GeneratorConfig(data_dir=model_data_dir).tiny_model_dir
    assert (target / "model_index.json").exists()
    assert ensure_tiny_model(target) is False
    assert tiny_model.model_id == TINY_MODEL_ID
    assert tiny_model.device == "cpu"
    assert tiny_model.has_safety_checker is False
    assert type(tiny_model.pipeline).__name__ == "StableDiffusionPipeline"


def test_two_builds_have_identical_weights(tmp_path: Path, tiny_model: DiffusersDirectoryBackend) -> None:
    ensure_tiny_model(tmp_path / "tiny")
    assert hash_model_dir(tmp_path / "tiny") == tiny_model.model_hash


def test_model_hash_is_cached_and_follows_content(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"a": 1}')
    cache = tmp_path / "hashes.json"
    first = hash_model_dir(model, cache)
    assert cache.exists()
    assert hash_model_dir(model, cache) == first
    (model / "config.json").write_text('{"a": 2}')
    assert hash_model_dir(model, cache) != first


def test_a_hash_written_sweeps_what_a_crash_left_beside_the_cache(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"a": 1}')
    cache = tmp_path / "hashes.json"
    left, writing = tmp_path / f"{TEMP_PREFIX}crashed.json", tmp_path / f"{TEMP_PREFIX}another-writer.json"
    for path in (left, writing):
        path.write_text("{")
    two_hours_ago = time.time() - 7200
    os.utime(left, (two_hours_ago, two_hours_ago))
    hash_model_dir(model, cache)
    assert not left.exists()
    assert writing.exists()  # seconds old: a write still running elsewhere
    assert json.loads(cache.read_text())
