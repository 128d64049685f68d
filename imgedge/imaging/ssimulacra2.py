"""SSIMULACRA2 in float32, one colour plane at a time, with the reference side computed once.

The same steps and constants as the `ssimulacra2` package (which the tests compare it with), but that package
works on whole float64 images and recomputes the reference for every comparison: scoring one 1024² variant
held about 0.5 GiB, and q:auto's search compares one reference with seven trial encodes. Here a 1024²
reference costs about 50 MiB for the whole search, and each trial a few planes of 4 MiB.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from ssimulacra2 import ssimulacra2 as s2

_SCALES = s2.kNumScales
_C2 = np.float32(s2.kC2)
_OPSIN = np.asarray(s2.kOpsinAbsorbanceMatrix, dtype=np.float32).reshape(3, 3)
_BIAS = np.asarray(s2.kOpsinAbsorbanceBias, dtype=np.float32)
_BIAS_CBRT = np.cbrt(_BIAS)
_SIGMA, _TRUNCATE = 1.5, 3.33
# The package transposes the image when it converts to XYB, then zero-pads rows before blurring: in the
# image's own orientation that is zeros beyond the left and right edges and reflection at top and bottom.
_BLUR_MODES = ("reflect", "constant")


def _srgb_to_linear_table() -> np.ndarray:
    v = np.arange(256, dtype=np.float64) / 255.0
    table = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return table.astype(np.float32)


_LINEAR = _srgb_to_linear_table()

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB (height, width, 3) → linear light, float32."""
    linear: np.ndarray = _LINEAR[rgb]
    return linear


def _downsample(linear: np.ndarray) -> np.ndarray:
    # The package averages the partial blocks of an odd edge; repeating the edge pixel does the same.
    h, w, c = linear.shape
    if h % 2 or w % 2:
        linear = np.pad(linear, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    halved: np.ndarray = linear.reshape(linear.shape[0] // 2, 2, linear.shape[1] // 2, 2, c).mean(
        axis=(1, 3), dtype=np.float32
    )
    return halved


def _positive_xyb(linear: np.ndarray) -> Planes:
    r, g, b = linear[..., 0], linear[..., 1], linear[..., 2]
    mixed = []
    for i in range(3):
        m = _OPSIN[i, 0] * r + _OPSIN[i, 1] * g + _OPSIN[i, 2] * b + _BIAS[i]
        np.maximum(m, 0, out=m)
        np.cbrt(m, out=m)
        m -= _BIAS_CBRT[i]
        mixed.append(m)
    x = (mixed[0] - mixed[1]) * np.float32(0.5 * 14.0) + np.float32(0.42)
    y = (mixed[0] + mixed[1]) * np.float32(0.5)
    b_minus_y = mixed[2] - y + np.float32(0.55)
    y += np.float32(0.01)
    return x, y, b_minus_y


def _blur(plane: np.ndarray) -> np.ndarray:
    blurred: np.ndarray = ndimage.gaussian_filter(
        plane, _SIGMA, mode=_BLUR_MODES, cval=0.0, truncate=_TRUNCATE, output=np.float32
    )
    return blurred


def _norms(values: np.ndarray) -> tuple[float, float]:
    """The mean and the 4-norm, as the package averages its maps."""
    mean = float(values.mean(dtype=np.float64))
    values *= values
    values *= values
    return mean, float(values.mean(dtype=np.float64)) ** 0.25


class _ReferenceScale:
    __slots__ = ("mu", "planes", "sigma")

    def __init__(self, linear: np.ndarray) -> None:
        self.planes = _positive_xyb(linear)
        self.mu = tuple(_blur(p) for p in self.planes)
        self.sigma = tuple(_blur(p * p) - m * m for p, m in zip(self.planes, self.mu, strict=True))


class Reference:
    """An un-encoded image prepared once, to score any number of encodings of it."""

    def __init__(self, linear: np.ndarray) -> None:
        self.shape = linear.shape
        # Under 8 px a side the metric has no scale to measure at: such images score 100 or 0.
        self.tiny = linear if linear.shape[0] < 8 or linear.shape[1] < 8 else None
        self.scales: list[_ReferenceScale] = []
        for scale in range(_SCALES):
            if scale:
                linear = _downsample(linear)
            if linear.shape[0] < 8 or linear.shape[1] < 8:
                break
            self.scales.append(_ReferenceScale(linear))

    def score(self, distorted: np.ndarray) -> float:
        """SSIMULACRA2 of `distorted` (linear light, the reference's shape) against the reference."""
        if distorted.shape != self.shape:
            raise ValueError(f"shapes differ: {distorted.shape} against {self.shape}")
        if self.tiny is not None:
            return 100.0 if np.allclose(self.tiny, distorted, atol=1 / 255) else 0.0
        msssim = s2.Msssim()
        for index, ref in enumerate(self.scales):
            if index:
                distorted = _downsample(distorted)
            msssim.scales.append(_compare(ref, _positive_xyb(distorted)))
        return float(msssim.score())


def _compare(ref: _ReferenceScale, planes: Planes) -> s2.MsssimScale:
    data = s2.MsssimScale()
    for c, (x1, mu1, sigma1, x2) in enumerate(zip(ref.planes, ref.mu, ref.sigma, planes, strict=True)):
        mu2 = _blur(x2)
        sigma2 = _blur(x2 * x2) - mu2 * mu2
        covariance = _blur(x1 * x2) - mu1 * mu2
        diff = mu1 - mu2
        num_m = 1.0 - diff * diff
        d = 1.0 - num_m * (2.0 * covariance + _C2) / (sigma1 + sigma2 + _C2)
        np.maximum(d, 0, out=d)
        data.avg_ssim[2 * c : 2 * c + 2] = _norms(d)
        # Edge differences: > 0 where the encoding adds edges (ringing, blocks), < 0 where it loses them.
        ratio = (1.0 + np.fabs(x2 - mu2)) / (1.0 + np.fabs(x1 - mu1)) - 1.0
        data.avg_edgediff[4 * c : 4 * c + 2] = _norms(np.maximum(ratio, 0))
        data.avg_edgediff[4 * c + 2 : 4 * c + 4] = _norms(np.maximum(-ratio, 0))
    return data


def ssimulacra2(original: np.ndarray, distorted: np.ndarray) -> float:
    """One comparison of two linear-light images."""
    return Reference(original).score(distorted)
