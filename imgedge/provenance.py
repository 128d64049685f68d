"""The provenance label a served variant of a generated image carries: a minimal XMP packet.

Standard library only (the generator, the proxy and clients read it). The packet holds the IPTC digital
source type (`trainedAlgorithmicMedia` for generated images), a link to the full provenance record
(`dcterms:provenance`, where C2PA also points at an external manifest), and the prompt only when the
operator opted in (IPTC 2025.1 `AIPromptInformation`). Everything else stays stripped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

DIGITAL_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = DIGITAL_SOURCE_TYPES + "trainedAlgorithmicMedia"
MAX_RECORD_CHARS = 512
MAX_PROMPT_CHARS = 2000

_SOURCE_TYPE = re.compile(re.escape(DIGITAL_SOURCE_TYPES) + r"[A-Za-z]{1,64}")
_RECORD = re.compile(rf"(https?://|urn:)[\x21-\x7e]{{1,{MAX_RECORD_CHARS}}}")
_DECLARED = re.compile(r"""Iptc4xmpExt:DigitalSourceType\s*(?:=\s*["']|>)\s*([^"'<\s]+)""")
_NAMESPACES = (
    ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
    ' xmlns:dcterms="http://purl.org/dc/terms/"'
)


@dataclass(frozen=True, slots=True)
class ProvenanceLabel:
    digital_source_type: str  # an IPTC digital source type URI
    record: str = ""  # where the full provenance record is: an http(s) URL or a URN
    prompt: str = ""  # only when the operator opted in to publishing prompts

    @classmethod
    def checked(cls, digital_source_type: str, record: str = "", prompt: str = "") -> ProvenanceLabel | None:
        """The label from untrusted parts: None without a valid source type; a bad link or prompt is left
        out rather than written into images."""
        if not _SOURCE_TYPE.fullmatch(digital_source_type):
            return None
        record = record if _RECORD.fullmatch(record) else ""
        prompt = " ".join(prompt.split())  # one line: line breaks would not survive every reader
        prompt = prompt if len(prompt) <= MAX_PROMPT_CHARS and prompt.isprintable() else ""
        return cls(digital_source_type, record, prompt)

    def xmp(self) -> bytes:
        """The XMP packet (about 400 bytes without a prompt); libvips writes it as each format's XMP box,
        chunk or segment."""
        properties = f" Iptc4xmpExt:DigitalSourceType={quoteattr(self.digital_source_type)}"
        if self.record:
            properties += f" dcterms:provenance={quoteattr(self.record)}"
        if self.prompt:
            properties += f" Iptc4xmpExt:AIPromptInformation={quoteattr(self.prompt)}"
        return (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about=""{_NAMESPACES}{properties}/>'
            "</rdf:RDF></x:xmpmeta>"
        ).encode()


def declared_source_type(xmp: bytes) -> str | None:
    """The IPTC digital source type an image's own XMP declares, if it declares a valid one."""
    match = _DECLARED.search(xmp.decode("utf-8", "replace"))
    if match is None or not _SOURCE_TYPE.fullmatch(match.group(1)):
        return None
    return match.group(1)
