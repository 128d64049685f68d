"""SSIMULACRA2 in float32, a strip of rows and one colour plane at a time, the reference's XYB made once.

The steps of the `ssimulacra2` package (a Python port of libjxl's `tools/ssimulacra2.cc`), with libjxl's
opsin constants and fitted weights below; the tests compare the scores with the package's. The package
works on whole float64 images, recomputes the reference for every comparison and imports scipy and Pillow:
scoring one 1024² variant held about 0.5 GiB, and the import alone was 27 MiB in every proxy worker. Here a
1024² reference holds 16 MiB for the whole search, a trial's temporaries are strips of 128 rows, and the
blur is numpy's.
"""

from __future__ import annotations

import numpy as np

_SCALES = 6
_C2 = np.float32(0.0009)
# libjxl's opsin absorbance matrix (rows: the three mixed channels) and its bias.
_OPSIN = np.array(
    [
        [0.30, 1.0 - 0.078 - 0.30, 0.078],
        [0.23, 1.0 - 0.078 - 0.23, 0.078],
        [0.24342268924547819, 0.20476744424496821, 1.0 - 0.24342268924547819 - 0.20476744424496821],
    ],
    dtype=np.float32,
)
_BIAS = np.full(3, 0.0037930732552754493, dtype=np.float32)
_BIAS_CBRT = np.cbrt(_BIAS)

# The fitted weights, in the order the score sums them: channel (X, Y, B), scale, norm (mean, 4-norm), then
# in each row the SSIM error, the added-edge (ringing) error and the lost-edge (blurring) error.
_WEIGHT_ROWS = """
0.0 0.0007376606707406586 0.0
0.0 0.0007793481682867309 0.0
0.0 0.0004371155730107379 0.0
1.1041726426657346 0.00066284834129271 0.00015231632783718752
0.0 0.0016406437456599754 0.0
1.8422455520539298 11.441172603757666 0.0
0.0007989109436015163 0.000176816438078653 0.0
1.8787594979546387 10.94906990605142 0.0
0.0007289346991508072 0.9677937080626833 0.0
0.00014003424285435884 0.9981766977854967 0.00031949755934435053
0.0004550992113792063 0.0 0.0
0.0013648766163243398 0.0 0.0
0.0 0.0 0.0
7.466890328078848 0.0 17.445833984131262
0.0006235601634041466 0.0 0.0
6.683678146179332 0.00037724407979611296 1.027889937768264
225.20515300849274 0.0 0.0
19.213238186143016 0.0011401524586618361 0.001237755635509985
176.39317598450694 0.0 0.0
24.43300999870476 0.28520802612117757 0.0004485436923833408
0.0 0.0 0.0
34.77906344483772 44.835625328877896 0.0
0.0 0.0 0.0
0.0 0.0 0.0
0.0 0.0008680556573291698 0.0
0.0 0.0 0.0
0.0 0.0005313191874358747 0.0
0.00016533814161379112 0.0 0.0
0.0 0.0 0.0
0.0004179171803251336 0.0017290828234722833 0.0
0.0020827005846636437 0.0 0.0
8.826982764996862 23.19243343998926 0.0
95.1080498811086 0.9863978034400682 0.9834382792465353
0.0012286405048278493 171.2667255897307 0.9807858872435379
0.0 0.0 0.0
0.0005130064588990679 0.0 0.00010854057858411537
"""
_WEIGHTS = np.array(_WEIGHT_ROWS.split(), dtype=np.float64)

# Blur: a Gaussian of sigma 1.5 cut at 3.33 sigma (11 taps), as the package has it (libjxl itself uses a
# recursive approximation): reflected at the top and bottom edges, zeros beyond the left and right ones.
_SIGMA, _TRUNCATE = 1.5, 3.33
_RADIUS = int(_TRUNCATE * _SIGMA + 0.5)


def _gaussian_taps() -> np.ndarray:
    taps = np.exp(-0.5 * (np.arange(-_RADIUS, _RADIUS + 1) / _SIGMA) ** 2)
    normalised: np.ndarray = (taps / taps.sum()).astype(np.float32)
    return normalised


_TAPS = _gaussian_taps()
# Rows compared at once. A strip is blurred from its rows and `_RADIUS` more on each side, reflected at the
# image's edges as a whole-plane blur reflects them: every pixel's sums are the same, and a comparison's
# temporaries are strips (a 1280² trial held ~90 MiB of planes).
_STRIP_ROWS = 128


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


def _xyb_planes(linear: np.ndarray) -> np.ndarray:
    """Positive XYB, (3, height, width), converted a strip at a time."""
    planes = np.empty((3, linear.shape[0], linear.shape[1]), dtype=np.float32)
    for start in range(0, linear.shape[0], _STRIP_ROWS):
        stop = start + _STRIP_ROWS
        for plane, converted in zip(planes, _positive_xyb(linear[start:stop]), strict=True):
            plane[start:stop] = converted
    return planes


def _halo(height: int, start: int, stop: int) -> np.ndarray:
    """Rows `start - _RADIUS` to `stop + _RADIUS` of a plane, reflected at its top and bottom edges as
    np.pad's "symmetric" mode reflects them (a scale is at least 8 rows, more than the radius)."""
    rows = np.arange(start - _RADIUS, stop + _RADIUS)
    rows = np.where(rows < 0, -rows - 1, rows)
    indices: np.ndarray = np.where(rows >= height, 2 * height - 1 - rows, rows)
    return indices


def _blur(halo: np.ndarray) -> np.ndarray:
    """The blurred rows of a strip, from the strip with `_RADIUS` rows more on each side (`_halo`)."""
    # Separable, and the kernel symmetric: each pass adds the two samples a tap weighs alike, then scales.
    # Twice as fast as scipy's gaussian_filter, equal to it within 2e-7.
    r = _RADIUS
    h, w = halo.shape[0] - 2 * r, halo.shape[1]
    pair = np.empty((h, w), dtype=np.float32)
    across = np.zeros((h, w + 2 * r), dtype=np.float32)
    rows = across[:, r : r + w]
    np.multiply(halo[r : r + h], _TAPS[r], out=rows)
    for k in range(r):
        np.add(halo[k : k + h], halo[2 * r - k : 2 * r - k + h], out=pair)
        pair *= _TAPS[k]
        rows += pair
    blurred: np.ndarray = across[:, r : r + w] * _TAPS[r]
    for k in range(r):
        np.add(across[:, k : k + w], across[:, 2 * r - k : 2 * r - k + w], out=pair)
        pair *= _TAPS[k]
        blurred += pair
    return blurred


def _add_norms(values: np.ndarray, sums: np.ndarray) -> None:
    """Adds the sum of `values` and of their 4th powers, from which the package's mean and 4-norm come."""
    sums[0] += values.sum(dtype=np.float64)
    values *= values
    values *= values
    sums[1] += values.sum(dtype=np.float64)


class Reference:
    """An un-encoded image prepared once, to score any number of encodings of it.

    It keeps each scale's XYB planes only (a 1280² image: 25 MiB); the blurred means and variances are made
    again for each comparison, a strip at a time: holding them cost 50 MiB more for the whole search, for
    two blurs in five per channel.
    """

    def __init__(self, linear: np.ndarray) -> None:
        self.shape = linear.shape
        # Under 8 px a side the metric has no scale to measure at: such images score 100 or 0.
        self.tiny = linear if linear.shape[0] < 8 or linear.shape[1] < 8 else None
        self.scales: list[np.ndarray] = []
        for scale in range(_SCALES):
            if scale:
                linear = _downsample(linear)
            if linear.shape[0] < 8 or linear.shape[1] < 8:
                break
            self.scales.append(_xyb_planes(linear))

    def score(self, distorted: np.ndarray) -> float:
        """SSIMULACRA2 of `distorted` (linear light, the reference's shape) against the reference."""
        if distorted.shape != self.shape:
            raise ValueError(f"shapes differ: {distorted.shape} against {self.shape}")
        if self.tiny is not None:
            return 100.0 if np.allclose(self.tiny, distorted, atol=1 / 255) else 0.0
        errors = []
        for index, reference in enumerate(self.scales):
            if index:
                distorted = _downsample(distorted)
            errors.append(_compare(reference, distorted))
        return _score(np.stack(errors))


def _compare(reference: np.ndarray, distorted: np.ndarray) -> np.ndarray:
    """One scale's errors: (channel, norm, kind), the kinds being SSIM, ringing and blurring."""
    height, width = distorted.shape[0], distorted.shape[1]
    sums = np.zeros((3, 3, 2))  # channel, kind, (sum, sum of 4th powers)
    for start in range(0, height, _STRIP_ROWS):
        stop = min(start + _STRIP_ROWS, height)
        rows = _halo(height, start, stop)
        # The conversion is per pixel: converting the strip's rows equals taking them from converted planes.
        for c, x2 in enumerate(_positive_xyb(distorted[rows])):
            _compare_strip(reference[c][rows], x2, sums[c])
    errors = np.empty((3, 2, 3))
    errors[:, 0, :] = sums[:, :, 0] / (height * width)
    errors[:, 1, :] = (sums[:, :, 1] / (height * width)) ** 0.25
    return errors


def _compare_strip(x1: np.ndarray, x2: np.ndarray, sums: np.ndarray) -> None:
    """Adds one channel's error sums over a strip to `sums` (kind, power); `x1` and `x2` carry the halo."""
    mu1, mu2 = _blur(x1), _blur(x2)
    sigma1 = _blur(x1 * x1)
    sigma1 -= mu1 * mu1
    sigma2 = _blur(x2 * x2)
    sigma2 -= mu2 * mu2
    covariance = _blur(x1 * x2)
    covariance -= mu1 * mu2
    x1, x2 = x1[_RADIUS:-_RADIUS], x2[_RADIUS:-_RADIUS]
    # d = 1 - (1 - (mu1 - mu2)²) (2 covariance + C2) / (sigma1 + sigma2 + C2)
    d = mu1 - mu2
    d *= d
    np.subtract(1.0, d, out=d)
    covariance *= 2.0
    covariance += _C2
    d *= covariance
    del covariance
    sigma2 += sigma1
    sigma2 += _C2
    d /= sigma2
    del sigma2, sigma1
    np.subtract(1.0, d, out=d)
    np.maximum(d, 0, out=d)
    _add_norms(d, sums[0])
    # Edge differences: > 0 where the encoding adds edges (ringing, blocks), < 0 where it loses them.
    ratio = x2 - mu2
    np.fabs(ratio, out=ratio)
    ratio += 1.0
    d = x1 - mu1
    np.fabs(d, out=d)
    d += 1.0
    ratio /= d
    ratio -= 1.0
    np.maximum(ratio, 0, out=d)
    _add_norms(d, sums[1])
    np.negative(ratio, out=ratio)
    np.maximum(ratio, 0, out=ratio)
    _add_norms(ratio, sums[2])


def _score(errors: np.ndarray) -> float:
    """`errors`: (scale, channel, norm, kind). With fewer than six scales libjxl (and the package) sum the
    first weights in their order, so a small image's weights are not those of the same scales of a large
    one."""
    ordered = np.abs(errors.transpose(1, 0, 2, 3)).ravel()
    weighted = float(ordered @ _WEIGHTS[: ordered.size]) * 0.9562382616834844
    weighted = (
        2.326765642916932 * weighted
        - 0.020884521182843837 * weighted**2
        + 6.248496625763138e-05 * weighted**3
    )
    return 100.0 - 10.0 * weighted**0.6276336467831387 if weighted > 0 else 100.0


def ssimulacra2(original: np.ndarray, distorted: np.ndarray) -> float:
    """One comparison of two linear-light images."""
    return Reference(original).score(distorted)
