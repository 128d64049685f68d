"""Which model makes the pixels, for the canonical request (jobs/reuse.py): the loaded one's id, weights hash
and scheduler, or, in an API process whose `imgedge worker`s load the model, the configured model
directory's, read once without loading it (its weights hash is cached per data dir)."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.backend import ModelSlot
from imgedge.generator.models.diffusers_directory import model_dir_for
from imgedge.generator.models.model_hash import hash_model_dir

log = logging.getLogger("imgedge.generator")


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    model_id: str
    model_hash: str
    scheduler: str


class ModelIdentities:
    def __init__(self, slot: ModelSlot, config: GeneratorConfig | None = None) -> None:
        self.slot = slot
        self.config = config
        self._configured: ModelIdentity | None = None
        self._tried = False
        self._lock = threading.Lock()

    def current(self) -> ModelIdentity | None:
        """Blocking the first time in a process without the model; None when the model cannot be named
        (then requests are not reused, only generated)."""
        model = self.slot.model
        if model is not None:
            return ModelIdentity(model.model_id, model.model_hash, model.scheduler_name)
        with self._lock:
            if not self._tried and self.config is not None:
                self._tried = True
                self._configured = self._read(self.config)
            return self._configured

    @staticmethod
    def _read(config: GeneratorConfig) -> ModelIdentity | None:
        try:
            model_dir, model_id = model_dir_for(config)
            index = json.loads((model_dir / "model_index.json").read_text())
            scheduler = str(index["scheduler"][1])  # ["diffusers", "<class name>"], what the pipeline loads
            model_hash = hash_model_dir(model_dir, config.data_dir / "models" / "hashes.json")
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("identical requests will not be reused: the model cannot be named here (%s)", exc)
            return None
        return ModelIdentity(model_id, model_hash, scheduler)
