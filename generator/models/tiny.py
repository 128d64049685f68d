"""The embedded default model: a tiny Stable Diffusion pipeline with seeded random weights, built offline.

Its pictures are abstract textures, not art; it exists so that the whole system runs and is testable on a CPU
with nothing downloaded. Point IMGEDGE_MODEL at a real diffusers directory for real images.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("imgedge.generator")

SEED = 20240601
MODEL_INDEX = "model_index.json"
BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def byte_level_alphabet() -> list[str]:
    # GPT-2/CLIP byte-to-unicode table: every byte gets a printable character, so any prompt tokenizes.
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    extra = [b for b in range(256) if b not in printable]
    return [chr(c) for c in printable] + [chr(256 + i) for i in range(len(extra))]


def byte_level_vocab() -> dict[str, int]:
    alphabet = byte_level_alphabet()
    # CLIP's BPE marks the last symbol of each word with "</w>"; with no merges every symbol is one token.
    tokens = [*alphabet, *(c + "</w>" for c in alphabet), BOS, EOS]
    return {token: index for index, token in enumerate(tokens)}


def ensure_tiny_model(target: Path) -> bool:
    """Build the tiny model into `target` unless it is already there; returns whether it was built."""
    if (target / MODEL_INDEX).exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".build-"))
    try:
        build_tiny_pipeline().save_pretrained(scratch, safe_serialization=True)
        try:
            scratch.rename(target)
        except OSError:
            # Another process finished first; its copy is identical because the weights are seeded.
            if not (target / MODEL_INDEX).exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("built the tiny built-in model in %s in %.2f s", target, time.perf_counter() - started)
    return True


def build_tiny_pipeline() -> Any:
    import diffusers
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    # diffusers is only partly annotated; treat it as untyped rather than sprinkle ignores.
    d: Any = diffusers

    vocab = byte_level_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    devices: list[int] = []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(SEED)
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=77, projection_dim=32,
                bos_token_id=vocab[BOS], eos_token_id=vocab[EOS], pad_token_id=vocab[EOS],
            )
        )  # fmt: skip
        # Attention only in the half-resolution block: at full latent resolution it would dominate the time.
        unet = d.UNet2DConditionModel(
            sample_size=64, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=32, attention_head_dim=8, norm_num_groups=8,
        )  # fmt: skip
        # Four blocks give the 8x downsampling of real SD VAEs, so latents stay small at 512 and above.
        vae = d.AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(16, 16, 32, 32),
            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
            layers_per_block=1, norm_num_groups=8, sample_size=512,
        )  # fmt: skip
    scheduler = d.EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        timestep_spacing="trailing", steps_offset=1,
    )  # fmt: skip
    return d.StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip
