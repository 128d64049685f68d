from imgedge.proxy.options.parse import ParseSettings, parse_options
from imgedge.proxy.options.spec import FITS, FORMATS, GRAVITIES, TransformSpec

__all__ = ["FITS", "FORMATS", "GRAVITIES", "ParseSettings", "TransformSpec", "parse_options"]
