"""Prompt URLs: `/gen/{signature}/{options…}/{width}x{height}-{seed}-{prompt}[.ext]` (imgedge.url.prompt).

They name a generation instead of an asset; the transform handler resolves it to the asset id it made
(proxy/prompts.py) before the cache key is built, so a prompt URL and an asset URL share their variants.
Always signed with the native keys, whatever IMGEDGE_ALLOW_UNSIGNED says: an unsigned one could spend
generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from imgedge.proxy.dialects.base import Credential, ParsedRequest
from imgedge.proxy.dialects.native import NATIVE
from imgedge.proxy.errors import Forbidden
from imgedge.proxy.sources.base import SourceRef
from imgedge.url import ParseSettings, parse_options
from imgedge.url.errors import UrlError
from imgedge.url.prompt import PROMPT_PREFIX, parse_generation, prompt_message
from imgedge.url.signing import well_formed_signature

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

PROMPT = "prompt"


class PromptDialect:
    prefix = f"/{PROMPT_PREFIX}"

    def __init__(self, config: ProxyConfig) -> None:
        self.settings = config.parse_settings

    def parse(self, path: str, query: str) -> ParsedRequest:
        return parse_prompt_path(path, self.settings)


def parse_prompt_path(path: str, settings: ParseSettings) -> ParsedRequest:
    segments = path.strip("/").split("/")
    if len(segments) < 2:
        raise UrlError("expected /gen/{signature}/{options}/{width}x{height}-{seed}-{prompt}")
    signature, options, last = segments[0], segments[1:-1], segments[-1]
    if not well_formed_signature(signature):
        raise Forbidden("prompt URLs must be signed")  # no unsigned form, even with IMGEDGE_ALLOW_UNSIGNED
    segment, dot, extension = last.partition(".")
    if dot and not extension:
        raise UrlError("expected .format after the generation")
    generation = parse_generation(segment)
    spec = parse_options([unquote(option) for option in options], settings, suffix_format=extension or None)
    credential = Credential(NATIVE, signature, prompt_message(spec.canonical(), generation))
    return ParsedRequest(spec, SourceRef.generation(segment), credential)
