"""Training throughput: Keras through the real `kerasrnn.fit` path, the input pipeline alone, and PyTorch.

Behind `python -m kerasrnn.bench train`. Each measurement runs in its own process (one
framework, one model, its own peak memory), started by `measure` with
`python -m kerasrnn.benchmarks.throughput WORKER JSON-ARGS`, and prints one JSON line. Rates are
characters of target per second, from the median time of a training step after warm-up.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from kerasrnn.benchmarks import limits
from kerasrnn.benchmarks.machine import cpu_kind

CELLS = ("simplernn", "lstm", "gru")  # what `bench train` compares


@dataclass
class TrainShape:
    """One benchmarked model and batch shape (the defaults: the issue's reference model)."""

    cell: str = "gru"  # simplernn, lstm or gru
    rnn_impl: str = "fast"  # Keras only: "fast" (kerasrnn's CPU loop) or "keras" (the stock layers)
    jit_compile: bool = True  # Keras: the training step compiled with XLA (bench train measures both ways)
    products: str = "float32"  # the products' type: the fast loop's (Keras), or PyTorch's bfloat16 autocast
    units: int = 512  # hidden units per layer
    embedding_dim: int = 128  # embedding size
    layers: int = 1  # stacked recurrent layers
    batch_size: int = 64  # windows per step
    seq_len: int = 100  # characters per window
    steps: int = 30  # timed training steps
    warmup: int = 5  # untimed steps first (tracing, allocation)


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def shakespeare_ids():
    """The training part of the bundled corpus, encoded (the vocabulary as `kerasrnn.fit` builds it)."""
    from pipelines.text import load_corpus
    from pipelines.vocab import Vocabulary

    corpus = load_corpus("shakespeare")
    vocab = Vocabulary.build(corpus.train)
    return vocab.encode(corpus.train), len(vocab)


class _StepTimer:
    """A Keras callback recording the wall time of each training batch."""

    def __new__(cls):
        import keras

        class Timer(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                self._start = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                self.times.append(time.perf_counter() - self._start)

        timer = Timer()
        timer.times = []
        return timer


def keras_worker(shape: TrainShape) -> dict:
    """Trains the kerasrnn model with `model.fit` on the real pipeline and times each step."""
    from kerasrnn.core.cli import quiet_tensorflow

    quiet_tensorflow()
    from kerasrnn.core.config import Config
    from kerasrnn.models.char_model import build_model
    from kerasrnn.training.fitting import compile_model
    from kerasrnn.training.routes import Route, apply_route
    from pipelines.text import lm_dataset

    ids, vocab_size = shakespeare_ids()
    config = Config(cell=shape.cell, rnn_impl=shape.rnn_impl, units=shape.units, embedding_dim=shape.embedding_dim,
                    layers=shape.layers, batch_size=shape.batch_size, seq_len=shape.seq_len, vocab_size=vocab_size,
                    jit_compile=shape.jit_compile)
    total = shape.warmup + shape.steps
    ds = lm_dataset(ids, shape.seq_len, shape.batch_size).repeat().take(total)
    model = build_model(config)
    compile_model(model, config, total)
    apply_route(model, Route("", shape.jit_compile, shape.products))  # as `kerasrnn.fit --route` would
    timer = _StepTimer()
    model.fit(ds, epochs=1, steps_per_epoch=total, callbacks=[timer], verbose=0)
    median = statistics.median(timer.times[shape.warmup:])
    import keras
    import tensorflow as tf

    return {"framework": f"keras {keras.__version__} / tensorflow {tf.__version__}",
            "chars_per_s": round(shape.batch_size * shape.seq_len / median), "step_ms": round(median * 1e3, 1),
            "params": model.count_params()}


def pipeline_worker(shape: TrainShape, batches: int = 2000) -> dict:
    """The tf.data training pipeline alone: batches of the real windows, as fast as they come."""
    from kerasrnn.core.cli import quiet_tensorflow

    quiet_tensorflow()
    from pipelines.text import lm_dataset

    ids, _ = shakespeare_ids()
    ds = lm_dataset(ids, shape.seq_len, shape.batch_size).repeat()
    it = iter(ds)
    for _ in range(20):
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    seconds = time.perf_counter() - start
    return {"framework": "tf.data", "chars_per_s": round(batches * shape.batch_size * shape.seq_len / seconds)}


def torch_worker(shape: TrainShape) -> dict:
    """The same model trained in PyTorch (see `kerasrnn.benchmarks.torch_yardstick`)."""
    from kerasrnn.benchmarks.torch_yardstick import train_rate

    ids, vocab_size = shakespeare_ids()
    return train_rate(shape, ids, vocab_size)


def products_worker(shape: TrainShape) -> dict:
    """The machine's matrix-product rates in TensorFlow (see `kerasrnn.benchmarks.limits`)."""
    return limits.product_worker(shape, "tensorflow")


def torch_products_worker(shape: TrainShape) -> dict:
    """The machine's matrix-product rates in PyTorch."""
    return limits.product_worker(shape, "torch")


WORKERS = {"keras": keras_worker, "pipeline": pipeline_worker, "torch": torch_worker, "products": products_worker,
           "torch-products": torch_products_worker}


def measure(worker: str, shape: TrainShape, timeout: float = 1800) -> dict:
    """Runs one worker in a fresh process and returns its record (with `cell`, `peak_rss_mb`, the shape).

    Raises:
        RuntimeError: the worker failed (its last stderr line says why).
    """
    proc = subprocess.run([sys.executable, "-m", "kerasrnn.benchmarks.throughput", worker, json.dumps(asdict(shape))],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{worker} benchmark of {shape.cell} failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


SWEEP_UNITS = (128, 256, 512, 1024)  # --sizes: units swept at the base batch size
SWEEP_BATCHES = (32, 64, 128, 256)  # --sizes: batch sizes swept at the base units


KERASRNN = ("keras", "fast", True, "float32")  # (worker, rnn_impl, jit_compile, products): the fast loop with XLA
TORCH = ("torch", "fast", False, "float32")  # the PyTorch yardstick


def _frameworks(compare_torch: bool, bfloat16: bool = False) -> list[tuple[str, str, bool, str]]:
    """(worker, rnn_impl, jit_compile, products) to measure: kerasrnn's routes (the fast loop with XLA, on
    TensorFlow's kernels, and both in bfloat16 where the CPU has it), stock Keras, and PyTorch if asked (in
    bfloat16 autocast too where the CPU has it)."""
    kerasrnn = [KERASRNN, ("keras", "fast", False, "float32")]
    if bfloat16:
        kerasrnn += [("keras", "fast", True, "bfloat16"), ("keras", "fast", False, "bfloat16")]
    torch = [TORCH] + ([("torch", "fast", False, "bfloat16")] if bfloat16 else [])
    return kerasrnn + [("keras", "keras", False, "float32")] + (torch if compare_torch else [])


def _label(record: dict) -> str:
    bf16 = record.get("products") == "bfloat16"
    if record["worker"] == "torch":
        return "pytorch (bfloat16 autocast)" if bf16 else "pytorch"
    if record["rnn_impl"] != "fast":
        return "keras (stock layers)"
    return f"kerasrnn (fast loop{', XLA' if record['jit_compile'] else ''}{', bfloat16' if bf16 else ''})"




def _default_first(summary: list[dict]) -> list[dict]:
    """Each cell's rows with kerasrnn's default route first, marked `default`: the fastest of the routes
    `kerasrnn.fit` measures by default (`training.routes.candidates` with float32 products, the default
    precision), which is what its probe takes on this machine."""
    out = []
    for cell in dict.fromkeys(r["cell"] for r in summary):
        mine = [r for r in summary if r["cell"] == cell]
        routes = [r for r in mine if r["label"].startswith("kerasrnn") and "bfloat16" not in r["label"]]
        if routes:
            best = max(routes, key=lambda r: r["chars_per_s"])
            best["default"] = True
            mine = [best] + [r for r in mine if r is not best]
        out += mine
    return out


def summarise(rows: list[dict]) -> list[dict]:
    """One row per (cell, framework) over the rounds: the median rate and step time, and the median and
    range of the ratio to PyTorch taken within each round (the machine's speed drifts between rounds)."""
    summary = []
    for cell, label in dict.fromkeys((r["cell"], r["label"]) for r in rows):
        mine = [r for r in rows if (r["cell"], r["label"]) == (cell, label)]
        row = {"cell": cell, "label": label, "rounds": len(mine),
               "chars_per_s": round(statistics.median(r["chars_per_s"] for r in mine)),
               "step_ms": round(statistics.median(r["step_ms"] for r in mine), 1),
               "peak_rss_mb": max(r["peak_rss_mb"] for r in mine)}
        row.update({k: mine[0][k] for k in ("units", "embedding_dim", "layers", "products") if k in mine[0]})
        for key in ("vs_torch", "vs_torch_bf16"):
            ratios = [r[key] for r in mine if key in r]
            if ratios:
                row.update({key: round(statistics.median(ratios), 2), f"{key}_range": [min(ratios), max(ratios)]})
        summary.append(row)
    return _default_first(summary)


def bench_train(cells: list[str], base: TrainShape, compare_torch: bool = False, sizes: bool = False,
                rounds: int = 1, log=print) -> dict:
    """Measures training throughput for each cell (and, with `sizes`, a units and batch sweep).

    Args:
        rounds: how many times every framework is measured for a cell, in turn (round 1: each framework,
            round 2: each again, ...), so that each round's ratio to PyTorch compares neighbours in time.
    Returns:
        {"results": [...], "summary": [...], "pipeline": {...}, "sweep": [...]}; each result has `framework`,
        `cell`, `round`, `chars_per_s`, `step_ms`, `peak_rss_mb`, and for Keras with `compare_torch` a
        `vs_torch` ratio within its round; `summary` is `summarise(results)`.
    """
    from dataclasses import replace

    from kerasrnn.training.routes import cpu_info, has_bfloat16

    bfloat16 = has_bfloat16(cpu_info()["flags"])
    products = [measure("products", base)] + ([measure("torch-products", base)] if compare_torch else [])
    limit = limits.machine_limit(products)
    log("  the machine's limit (a 2048^3 product): " + ", ".join(f"{p} {v:,.0f} GFLOP/s" for p, v in limit.items()))
    results = []
    for cell in cells:
        for round_ in range(1, rounds + 1):
            rows = []
            for worker, impl, jit, prod in _frameworks(compare_torch, bfloat16):
                record = measure(worker, replace(base, cell=cell, rnn_impl=impl, jit_compile=jit, products=prod))
                record.update(label=_label(record), round=round_)
                rows.append(record)
                log(f"  {cell:10s} {record['label']:36s} {record['chars_per_s']:>9,} chars/s"
                    + (f"  (round {round_} of {rounds})" if rounds > 1 else ""))
            torch_rate = next((r["chars_per_s"] for r in rows if r["label"] == "pytorch"), None)
            torch_bf16 = next((r["chars_per_s"] for r in rows if r["label"] == "pytorch (bfloat16 autocast)"), None)
            for r in rows:
                if torch_rate and r["label"] != "pytorch":
                    r["vs_torch"] = round(r["chars_per_s"] / torch_rate, 2)  # always the ratio to PyTorch float32
                if torch_bf16 and r["worker"] == "keras" and r["products"] == "bfloat16":
                    r["vs_torch_bf16"] = round(r["chars_per_s"] / torch_bf16, 2)
            results.extend(rows)
    pipeline = measure("pipeline", base)
    fastest = max(r["chars_per_s"] for r in results)
    pipeline["vs_fastest_training"] = round(pipeline["chars_per_s"] / fastest, 1)
    log(f"  input pipeline alone: {pipeline['chars_per_s']:,} chars/s ({pipeline['vs_fastest_training']}x training)")
    sweep = []
    if sizes:
        shapes = [("units", replace(base, units=u)) for u in SWEEP_UNITS] + \
                 [("batch", replace(base, batch_size=b)) for b in SWEEP_BATCHES if b != base.batch_size]
        for cell in cells:
            for axis, shape in shapes:
                for worker, impl, jit, prod in [f for f in _frameworks(compare_torch) if f in (KERASRNN, TORCH)]:
                    record = measure(worker, replace(shape, cell=cell, rnn_impl=impl, jit_compile=jit, products=prod))
                    record.update(label=_label(record), sweep=axis)
                    sweep.append(record)
                    log(f"  sweep {cell} units {shape.units} batch {shape.batch_size} {record['label']}: "
                        f"{record['chars_per_s']:,} chars/s")
    summary = summarise(results)
    vocab_size = shakespeare_ids()[1]
    limits.add_gflops(results, limit, vocab_size)
    limits.add_gflops(summary, limit, vocab_size)
    return {"machine": cpu_kind(), "base": asdict(base), "rounds": rounds, "results": results, "summary": summary,
            "products": products, "limit_gflops": limit, "pipeline": pipeline, "sweep": sweep,
            "flops_per_char": {c: limits.flops_per_char(c, base.units, base.embedding_dim, base.layers, vocab_size)
                               for c in cells}}


def run_and_report(cells: list[str], base: TrainShape, compare_torch: bool, sizes: bool, json_path: str,
                   plot_path: str | None = None, command: str = "", rounds: int = 1) -> dict:
    """`python -m kerasrnn.bench train`: measures, writes the JSON (and the sweep's PNG), prints the table."""
    from pipelines.io import atomic_write_json

    from kerasrnn.benchmarks.train_report import format_train_table, plot_sweep

    result = bench_train(cells, base, compare_torch, sizes, rounds)
    atomic_write_json(json_path, {"command": command, "shape": asdict(base), **result})
    print(format_train_table(result))
    if sizes:
        plot = plot_path or os.path.splitext(json_path)[0] + "-sizes.png"
        plot_sweep(result, plot)
        print(f"wrote {plot}")
    print(f"wrote {json_path}")
    return result


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: `python -m kerasrnn.benchmarks.throughput WORKER JSON-SHAPE` prints one JSON line."""
    worker, shape = (argv or sys.argv[1:])[:2]
    shape = TrainShape(**json.loads(shape))
    result = WORKERS[worker](shape)
    print(json.dumps({**result, "worker": worker, "cell": shape.cell, **asdict(shape),
                      "peak_rss_mb": round(peak_rss_mb(), 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
