"""How `python -m kerasrnn.bench train` shows its figures: the summary table and the sweep's plot."""

from __future__ import annotations

from kerasrnn.benchmarks.machine import describe


def format_train_table(result: dict) -> str:
    """The summary (medians over the rounds) as a readable table."""
    rounds = result.get("rounds", 1)
    lines = [f"  on {describe(result['machine'])}"] if "machine" in result else []
    if rounds > 1:
        lines.append(f"  medians of {rounds} rounds; vs PyTorch: the median of the ratios within each round (range)")
    if result.get("limit_gflops"):
        lines.append("  the machine's limit (2048^3 product): " + ", ".join(
            f"{p} {v:,.0f} GFLOP/s" for p, v in result["limit_gflops"].items()) + "; * = kerasrnn's default route")
    lines += [f"  {'cell':10s} {'framework':38s} {'chars/s':>9s} {'step ms':>8s} {'GFLOP/s':>8s} {'of limit':>8s} "
              f"{'vs PyTorch':>10s} {'peak MB':>8s}"]
    for r in result["summary"]:
        ratio = f"{r['vs_torch']:.2f}x" if "vs_torch" in r else ""
        spread = (f"  ({r['vs_torch_range'][0]:.2f}-{r['vs_torch_range'][1]:.2f})"
                  if "vs_torch" in r and rounds > 1 else "")
        share = f"{r['of_limit']:.0%}" if "of_limit" in r else ""
        label = ("* " if r.get("default") else "  ") + r["label"]
        lines.append(f"  {r['cell']:10s} {label:38s} {r['chars_per_s']:>9,} {r['step_ms']:>8.1f} "
                     f"{r.get('gflops', 0):>8.1f} {share:>8s} {ratio:>10s} {r['peak_rss_mb']:>8.0f}{spread}")
    p = result["pipeline"]
    lines.append(f"  input pipeline alone: {p['chars_per_s']:,} chars/s = {p['vs_fastest_training']}x the fastest training")
    return "\n".join(lines)


def plot_sweep(result: dict, path: str) -> None:
    """Characters per second against units and against batch size, one line per cell and framework."""
    from kerasrnn.core.plots import new_figure, save_figure

    base, sweep = result["base"], result["sweep"]
    fig, axes = new_figure(ncols=2, figsize=(10, 4))
    for key in sorted({(r["cell"], r["label"]) for r in sweep}):
        mine = [r for r in sweep if (r["cell"], r["label"]) == key]
        by_units = sorted((r["units"], r["chars_per_s"]) for r in mine if r["sweep"] == "units")
        by_batch = sorted((r["batch_size"], r["chars_per_s"]) for r in mine
                          if r["sweep"] == "batch" or r["units"] == base["units"])
        for ax, points in ((axes[0], by_units), (axes[1], by_batch)):
            ax.plot(*zip(*points), marker="o", label=f"{key[0]}, {key[1]}")
    labels = (f"units (batch {base['batch_size']})", f"batch size ({base['units']} units)")
    for ax, name in zip(axes, labels):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel("training characters / s")
    fig.suptitle(f"Training throughput, embedding {base['embedding_dim']}, sequence {base['seq_len']}")
    save_figure(fig, path, axes)
