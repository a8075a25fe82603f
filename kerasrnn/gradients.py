"""`python -m kerasrnn.gradients`: vanishing and exploding gradients, shown with numbers and pictures.

Examples:
    python -m kerasrnn.gradients                                   # all three experiments
    python -m kerasrnn.gradients --runs runs/shakespeare-lstm runs/shakespeare-gru --skip-long-range
    python -m kerasrnn.gradients --out docs/exercises --long-range-steps 1500

Writes gradients.json, gradient-norms.png and one-unit.png into --out and prints the tables.
The experiments are in `kerasrnn.gradients_lib`.
"""

from __future__ import annotations

import os
import sys

from kerasrnn import cli
from kerasrnn.config import CELLS

LONG_RANGE_LENGTHS = (10, 20, 50, 100)  # T of the long-range task


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.gradients", __doc__.splitlines()[0])
    p.add_argument("--length", type=int, default=100, help="sequence length T of the gradient-norm measurement")
    p.add_argument("--units", type=int, default=64, help="units of the untrained models")
    p.add_argument("--runs", nargs="*", default=[], help="trained run directories to measure as well")
    p.add_argument("--long-range-steps", type=int, default=400, help="training steps per cell and T")
    p.add_argument("--skip-long-range", action="store_true", help="leave out the long-range task (the slow part)")
    p.add_argument("--out", default=os.path.join("runs", "gradients"), help="folder for the JSON and PNGs")
    return p


def plot_norms(series: dict, path: str, title: str) -> None:
    """Gradient norm against distance from the loss, log scale, one line per model."""
    from kerasrnn.plots import new_figure, save_figure

    fig, ax = new_figure(figsize=(7, 4))
    for name, norms in series.items():
        distance = list(range(len(norms) - 1, -1, -1))  # the last input is 0 steps from the loss
        ax.plot(distance, [max(n, 1e-30) for n in norms], label=name)
    ax.set_yscale("log")
    ax.set_xlabel("steps between the input and the loss")
    ax.set_ylabel("|| d loss / d input ||")
    ax.set_title(title)
    save_figure(fig, path, [ax])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if min(args.length, args.units, args.long_range_steps) < 1:
            raise cli.UsageError("--length, --units and --long-range-steps must be at least 1")
        cli.quiet_tensorflow()
        from kerasrnn import gradients_lib as g
        from pipelines.io import atomic_write_json

        os.makedirs(args.out, exist_ok=True)
        result = {"untrained": g.untrained_gradient_norms(args.length, args.units)}
        if args.runs:
            result["trained"] = g.trained_gradient_norms(args.runs, args.length)
        print(f"|| d loss(step {args.length}) / d input || at 1, 10, 50 and {args.length} steps back:")
        for kind in ("untrained", "trained"):
            for name, norms in result.get(kind, {}).items():
                picks = [norms[-k] for k in (1, 10, 50, args.length) if k <= len(norms)]
                print(f"  {kind:9s} {name:40s} " + "  ".join(f"{n:9.2e}" for n in picks))
        plot_norms({f"{k} {n}": v for k in ("untrained", "trained") for n, v in result.get(k, {}).items()},
                   os.path.join(args.out, "gradient-norms.png"), "How far back the loss reaches")

        unit = g.one_unit()
        result["one_unit"] = unit
        print("one unit, h_t = tanh(2 x_t + 3 h_(t-1) + 1), x_t = 1: dh_t/dh_0 for t = 1..8:")
        print("  " + "  ".join(f"{d:.1e}" for d in unit["chain_rule"][:8]))
        plot_norms({"dh_t/dh_0 (one unit)": [abs(d) for d in reversed(unit["chain_rule"])]},
                   os.path.join(args.out, "one-unit.png"), "One tanh unit, w_h = 3: the derivative vanishes")
        result["exploding"] = {"no_clipping": g.exploding(None), "clipnorm_1": g.exploding(1.0)}
        for name, losses in result["exploding"].items():
            print(f"  linear h_t = 1.5 h_(t-1) + x_t, SGD, {name:11s}: loss after steps 1-5 "
                  + ", ".join(f"{v:.3g}" for v in losses[:5]) + f" ... step {len(losses)}: {losses[-1]:.3g}")

        if not args.skip_long_range:
            print(f"long-range task (output the first of T tokens; chance 0.125), {args.long_range_steps} steps:")
            table = {}
            for cell in CELLS:
                table[cell] = {T: g.long_range_task(cell, T, args.long_range_steps) for T in LONG_RANGE_LENGTHS}
                print(f"  {cell:10s} " + "  ".join(f"T={T}: {a:.3f}" for T, a in table[cell].items()), flush=True)
            result["long_range"] = {"steps": args.long_range_steps, "accuracy": table}
        atomic_write_json(os.path.join(args.out, "gradients.json"), result)
        print(f"wrote {args.out}/gradients.json, gradient-norms.png, one-unit.png")
        return 0

    return cli.run(body, "kerasrnn.gradients")


if __name__ == "__main__":
    sys.exit(main())
