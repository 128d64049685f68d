"""Moderation policy: prompt block list and review patterns, plus the model's own image check when it has one.

This is a policy an operator configures, not a classifier: it catches what it is told to catch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imgedge.env import ConfigError
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.security.text import fold_pattern, moderation_form


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str  # approved | pending | rejected
    reason: str | None = None


def _compile(patterns: tuple[str, ...], setting: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(fold_pattern(pattern), re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"{setting}: {pattern!r} is not a valid regular expression: {exc}") from None
    return tuple(compiled)


class ModerationPolicy:
    def __init__(self, blocklist: tuple[str, ...], review: tuple[str, ...], review_all: bool) -> None:
        self.blocklist = _compile(blocklist, "IMGEDGE_MODERATION_BLOCKLIST")
        self.review = _compile(review, "IMGEDGE_MODERATION_REVIEW_PATTERNS")
        self.review_all = review_all

    @classmethod
    def from_config(cls, config: GeneratorConfig) -> ModerationPolicy:
        return cls(
            config.moderation_blocklist, config.moderation_review_patterns, config.moderation_review_all
        )

    def check_prompt(self, prompt: str) -> Verdict:
        # Matched in one normal form, so invisible or look-alike characters do not hide a word.
        text = moderation_form(prompt)
        for pattern in self.blocklist:
            if pattern.search(text):
                return Verdict("rejected", "prompt matches the block list")
        for pattern in self.review:
            if pattern.search(text):
                return Verdict("pending", "prompt needs review")
        return Verdict("approved")

    def check_generated(self, prompt: str, flagged: bool | None) -> Verdict:
        verdict = self.check_prompt(prompt)
        if verdict.state == "rejected":
            return verdict
        if flagged:
            return Verdict("rejected", "image flagged by the model's safety checker")
        if verdict.state == "approved" and self.review_all:
            return Verdict("pending", "every asset is reviewed")
        return verdict

    def check_upload(self, *, anonymous: bool = False) -> Verdict:
        # Uploads carry no prompt and there is no image classifier here: review_all holds them, and so does
        # an upload from nobody in particular, where the operator keeps those for review.
        if self.review_all:
            return Verdict("pending", "every asset is reviewed")
        if anonymous:
            return Verdict("pending", "uploaded without an API key")
        return Verdict("approved")
