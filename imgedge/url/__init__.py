"""The public URL package: grammar, canonical spec, signing, URL and srcset builders. Standard library only,
so clients (the generator, the benchmarks, applications) can build signed URLs without the server."""

from imgedge.url.build import UNSIGNED, build_path, info_path, srcset
from imgedge.url.errors import OptionError, UrlError
from imgedge.url.parse import ParseSettings, parse_options
from imgedge.url.signing import imgproxy_signature, sign, thumbor_signature, verify
from imgedge.url.spec import FITS, FORMATS, GRAVITIES, TransformSpec

__all__ = [
    "FITS", "FORMATS", "GRAVITIES", "UNSIGNED", "OptionError", "ParseSettings", "TransformSpec", "UrlError",
    "build_path", "imgproxy_signature", "info_path", "parse_options", "sign", "srcset", "thumbor_signature",
    "verify",
]  # fmt: skip
