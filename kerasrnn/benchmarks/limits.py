"""The machine's limit for `bench train`: how fast its matrix products can run, and how close training gets.

A training's work is counted in floating-point operations (FLOPs) of its matrix products, forward and
backward, per character of target (`flops_per_char`); the element-wise work is left out. The machine's limit
is the rate of one large product (2,048 × 2,048 × 2,048) in each library and precision, measured in the same
run (`product_worker`, in its own process); the recurrent step's own product (batch × units @ units ×
gates·units) is measured beside it, since a small product runs further from the limit.
"""

from __future__ import annotations

import statistics
import time

from kerasrnn.training.memory import GATES  # weight blocks of each cell (GRU: z, r, h)

BIG = 2048  # the large product's size, the machine's limit


def flops_per_char(cell: str, units: int, embedding_dim: int, layers: int, vocab_size: int) -> int:
    """FLOPs of the matrix products of one character, forward and backward: 3 × forward, since the backward
    pass does two products (the input's gradient and the weights') for each forward one.

    forward = Σ_layers 2·g·u·(in + u) + 2·u·V, with g the cell's gates (1, 4, 3), u the units, in the layer's
    input size (the embedding, then u) and V the vocabulary (the output layer).
    """
    g = GATES[cell]
    forward = sum(2 * g * units * ((embedding_dim if i == 0 else units) + units) for i in range(layers))
    return 3 * (forward + 2 * units * vocab_size)


def _rate(run, m: int, k: int, n: int, reps: int) -> float:
    """GFLOP/s of `run()` (one m×k @ k×n product, finished when it returns): the median of `reps` after one."""
    run()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return round(2 * m * k * n / statistics.median(times) / 1e9, 1)


def product_shapes(batch: int, units: int) -> dict[str, tuple[int, int, int]]:
    """The large product and each cell's recurrent-step product, by name."""
    return {f"{BIG}^3": (BIG, BIG, BIG),
            **{f"step {cell}": (batch, units, g * units) for cell, g in GATES.items()}}


def tensorflow_rates(shapes: dict, precisions: list[str]) -> dict:
    """{precision: {shape name: GFLOP/s}} of tf.matmul on TensorFlow's own kernels."""
    import tensorflow as tf

    out = {}
    for precision in precisions:
        out[precision] = {}
        for name, (m, k, n) in shapes.items():
            a = tf.cast(tf.random.stateless_normal([m, k], [1, 2]), precision)
            b = tf.cast(tf.random.stateless_normal([k, n], [3, 4]), precision)
            matmul = tf.function(tf.matmul)
            out[precision][name] = _rate(lambda: matmul(a, b).numpy(), m, k, n, 3 if m == BIG else 50)
    return out


def torch_rates(shapes: dict, precisions: list[str]) -> dict:
    """{precision: {shape name: GFLOP/s}} of torch.matmul."""
    import torch

    out = {}
    generator = torch.Generator().manual_seed(0)
    for precision in precisions:
        out[precision] = {}
        for name, (m, k, n) in shapes.items():
            dtype = getattr(torch, precision)
            a = torch.randn(m, k, generator=generator).to(dtype)
            b = torch.randn(k, n, generator=generator).to(dtype)
            out[precision][name] = _rate(lambda: torch.matmul(a, b), m, k, n, 3 if m == BIG else 50)
    return out


def product_worker(shape, library: str) -> dict:
    """The product rates of one library (float32, and bfloat16 where the CPU has it) for a `TrainShape`."""
    from kerasrnn.training.routes import cpu_info, has_bfloat16

    precisions = ["float32"] + (["bfloat16"] if has_bfloat16(cpu_info()["flags"]) else [])
    shapes = product_shapes(shape.batch_size, shape.units)
    if library == "torch":
        import torch

        return {"framework": f"torch {torch.__version__}", "gflops": torch_rates(shapes, precisions)}
    from kerasrnn.core.cli import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    return {"framework": f"tensorflow {tf.__version__}", "gflops": tensorflow_rates(shapes, precisions)}


def machine_limit(products: list[dict]) -> dict[str, float]:
    """{precision: the fastest large product of any library measured}: the machine's limit, in GFLOP/s."""
    limit = {}
    for record in products:
        for precision, rates in record["gflops"].items():
            limit[precision] = max(limit.get(precision, 0.0), rates[f"{BIG}^3"])
    return limit


def add_gflops(rows: list[dict], limit: dict[str, float], vocab_size: int) -> None:
    """Adds each training row's `gflops` (its products' rate) and `of_limit` (its share of the machine's limit
    in the row's precision)."""
    for r in rows:
        flops = flops_per_char(r["cell"], r["units"], r["embedding_dim"], r["layers"], vocab_size)
        r["gflops"] = float(f"{r['chars_per_s'] * flops / 1e9:.4g}")  # 4 significant digits, even for a tiny model
        if limit.get(r.get("products", "float32")):
            r["of_limit"] = float(f"{r['gflops'] / limit[r.get('products', 'float32')]:.3g}")
