"""SSIMULACRA2 in float32, one colour plane at a time, with the reference side computed once.

The steps of the `ssimulacra2` package (a Python port of libjxl's `tools/ssimulacra2.cc`), with libjxl's
opsin constants and fitted weights below; the tests compare the scores with the package's. The package
works on whole float64 images, recomputes the reference for every comparison and imports scipy and Pillow:
scoring one 1024² variant held about 0.5 GiB, and the import alone was 27 MiB in every proxy worker. Here a
1024² reference costs about 50 MiB for the whole search, each trial a few planes of 4 MiB, and the blur is
numpy's.
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
    # Separable, and the kernel symmetric: each pass adds the two samples a tap weighs alike, then scales.
    # Twice as fast as scipy's gaussian_filter, equal to it within 2e-7.
    h, w, r = plane.shape[0], plane.shape[1], _RADIUS
    padded = np.pad(plane, ((r, r), (0, 0)), mode="symmetric")
    pair = np.empty((h, w), dtype=np.float32)
    across = np.zeros((h, w + 2 * r), dtype=np.float32)
    rows = across[:, r : r + w]
    np.multiply(padded[r : r + h], _TAPS[r], out=rows)
    for k in range(r):
        np.add(padded[k : k + h], padded[2 * r - k : 2 * r - k + h], out=pair)
        pair *= _TAPS[k]
        rows += pair
    del padded
    blurred: np.ndarray = across[:, r : r + w] * _TAPS[r]
    for k in range(r):
        np.add(across[:, k : k + w], across[:, 2 * r - k : 2 * r - k + w], out=pair)
        pair *= _TAPS[k]
        blurred += pair
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
        errors = []
        for index, ref in enumerate(self.scales):
            if index:
                distorted = _downsample(distorted)
            errors.append(_compare(ref, _positive_xyb(distorted)))
        return _score(np.stack(errors))


def _compare(ref: _ReferenceScale, planes: Planes) -> np.ndarray:
    """One scale's errors: (channel, norm, kind), the kinds being SSIM, ringing and blurring."""
    errors = np.zeros((3, 2, 3))
    # In place where it can: at 1024² each temporary is a 4 MiB plane, and the search runs beside transforms.
    for c, (x1, mu1, sigma1, x2) in enumerate(zip(ref.planes, ref.mu, ref.sigma, planes, strict=True)):
        mu2 = _blur(x2)
        sigma2 = _blur(x2 * x2)
        sigma2 -= mu2 * mu2
        covariance = _blur(x1 * x2)
        covariance -= mu1 * mu2
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
        del sigma2
        np.subtract(1.0, d, out=d)
        np.maximum(d, 0, out=d)
        errors[c, :, 0] = _norms(d)
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
        errors[c, :, 1] = _norms(d)
        np.negative(ratio, out=ratio)
        np.maximum(ratio, 0, out=ratio)
        errors[c, :, 2] = _norms(ratio)
    return errors


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
