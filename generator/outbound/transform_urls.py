"""Ready-made transform URLs for an asset, built with the proxy's own URL builder and signing key."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from imgedge.generator.assets.records import AssetRecord
from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path, srcset
from imgedge.url.errors import UrlError
from imgedge.url.prompt import Generation, build_prompt_path


class TransformUrls:
    def __init__(
        self,
        key: bytes | None,
        widths: Sequence[int],
        base_url: str,
        generation_defaults: tuple[int, float] | None = None,
    ) -> None:
        self.key = key
        self.widths = tuple(widths)
        self.base_url = base_url.rstrip("/")
        # The steps and guidance a prompt URL's generation gets (the generator's defaults).
        self.generation_defaults = generation_defaults

    @classmethod
    def for_data_dir(
        cls,
        data_dir: Path,
        widths: Sequence[int],
        base_url: str,
        generation_defaults: tuple[int, float] | None = None,
    ) -> TransformUrls:
        keys = load_signing_keys(data_dir)
        return cls(keys[0] if keys else None, widths, base_url, generation_defaults)

    def prompt_url(self, record: AssetRecord) -> str | None:
        """The prompt URL (imgedge.url.prompt) that makes this very image again, when one can: a generated
        image without a negative prompt, made with the steps and guidance prompt URLs get."""
        p = record.provenance
        if self.key is None or self.generation_defaults is None or p.origin != "generated":
            return None
        if p.negative_prompt or (p.steps, p.guidance) != self.generation_defaults or not p.prompt:
            return None
        try:
            generation = Generation(p.prompt, p.seed or 0, record.width, record.height)
        except UrlError:
            return None  # a prompt longer than a URL carries, or a size prompt URLs do not name
        path = build_prompt_path(generation, key=self.key, options=(f"w:{max(self.widths)}", "f:auto"))
        return self.base_url + path

    def widths_for(self, source_width: int | None) -> tuple[int, ...]:
        """The proxy never upscales, so a width past the source's comes back at the source's size while a
        srcset would still describe it as wider (and the browser would draw it blurred): those widths
        collapse into the source width itself."""
        if source_width is None:
            return self.widths
        below = {w for w in self.widths if w < source_width}
        return tuple(sorted(below if len(below) == len(self.widths) else below | {source_width}))

    def paths(self, asset_id: str, source_width: int | None = None) -> list[str]:
        widths = self.widths_for(source_width)
        return [build_path(asset_id, key=self.key, width=w, fmt="auto") for w in widths]

    def describe(self, asset_id: str, source_width: int | None = None) -> dict[str, object]:
        widths = self.widths_for(source_width)
        return {
            "widths": {
                str(w): self.base_url + p
                for w, p in zip(widths, self.paths(asset_id, source_width), strict=True)
            },
            "srcset": srcset(asset_id, widths, key=self.key, base_url=self.base_url, fmt="auto"),
        }
