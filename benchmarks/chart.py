"""The PNG chart: req/s per contender for each workload, and imgedge's RSS during the soak."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_TITLES = {
    "uncached_webp": "uncached WebP",
    "cold_webp": "cold WebP",
    "uncached_avif": "AVIF via f:auto",
    "cache_hits": "cache hits (wrk)",
}


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def draw(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a benchmark machine
    import matplotlib.pyplot as plt

    workloads = [k for k in _TITLES if k in results["comparisons"]]
    soak = results.get("soak")
    panels = len(workloads) + (1 if soak else 0)
    figure, axes = plt.subplots(1, panels, figsize=(3.6 * panels, 3.6), squeeze=False)
    for axis, key in zip(axes[0], workloads, strict=False):
        contenders = results["comparisons"][key]["contenders"]
        names = list(contenders)
        values = [contenders[n]["rps"] for n in names]
        colours = ["#d9534f" if n.startswith("imgedge") else "#7a8ca3" for n in names]
        axis.bar(range(len(names)), values, color=colours)
        axis.set_xticks(range(len(names)), [n.replace(" (", "\n(") for n in names], fontsize=8)
        axis.set_title(_TITLES[key], fontsize=10)
        axis.set_ylabel("req/s (median of rounds)", fontsize=8)
        for x, value in enumerate(values):
            axis.annotate(f"{value:.0f}", (x, value), ha="center", va="bottom", fontsize=7)
    if soak:
        axis = axes[0][-1]
        times = [t for t, _ in soak["timeline"]]
        mib = [rss / 1024 / 1024 for _, rss in soak["timeline"]]
        axis.plot(times, mib, color="#d9534f")
        axis.set_title("imgedge proxy RSS during the soak", fontsize=10)
        axis.set_xlabel("seconds", fontsize=8)
        axis.set_ylabel("MiB, the workers summed", fontsize=8)
        axis.set_ylim(bottom=0)
    machine = results["machine"]
    figure.suptitle(
        f"imgedge benchmark ({results['mode']}) · {machine['date']} · {machine['cores']} cores", fontsize=10
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
