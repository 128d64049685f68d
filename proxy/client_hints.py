"""Client hints and the default q:auto: a URL's `auto` parts resolved into the plain spec a transform runs.

What the response then depends on (`Vary`), and `Content-DPR`, come back with it. The hint values are
bucketed by imgedge.url.hints before anything is keyed by them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from imgedge.url.hints import NO_HINTS, ClientHints, Resolved, resolve
from imgedge.url.spec import TransformSpec


class HintSource(Protocol):
    def client_hints(self) -> ClientHints: ...


@dataclass(frozen=True, slots=True)
class HintPolicy:
    honour: bool = False  # IMGEDGE_CLIENT_HINTS
    auto_quality_default: bool = True  # IMGEDGE_AUTO_QUALITY_DEFAULT
    max_dpr: float = 4.0

    def resolve(self, spec: TransformSpec, request: HintSource) -> Resolved:
        default_quality = self.auto_quality_default and spec.format == "auto" and not spec.quality
        if not (spec.uses_hints or spec.quality_target or default_quality):
            return Resolved(spec, (), None)
        hints = request.client_hints() if self.honour else NO_HINTS
        return _resolve(spec, hints, self.honour, self.auto_quality_default, self.max_dpr)


# Pure in validated inputs (a parsed spec, bucketed hints), and on the cache-hit path.
@functools.lru_cache(maxsize=16384)
def _resolve(
    spec: TransformSpec, hints: ClientHints, honour: bool, auto_quality_default: bool, max_dpr: float
) -> Resolved:
    return resolve(
        spec, hints, honour_hints=honour, auto_quality_default=auto_quality_default, max_dpr=max_dpr
    )
