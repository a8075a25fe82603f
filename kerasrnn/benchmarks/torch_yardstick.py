"""The PyTorch yardstick: the same character model trained in PyTorch, for `python -m kerasrnn.bench train`.

Started from `shared/bench/torch_reference.py` (the reference the project is measured against):
Embedding -> stacked nn.RNN/LSTM/GRU -> Linear, Adam, cross-entropy over the same
tiny-Shakespeare windows, the same batch and sequence length, PyTorch's default threads.
PyTorch is optional (`pip install -e ".[bench]"`); nothing else in kerasrnn imports it.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

TORCH_CELLS = {"simplernn": "RNN", "lstm": "LSTM", "gru": "GRU"}  # our cell name -> torch.nn class


def build_torch_model(cell: str, vocab_size: int, embedding_dim: int, units: int, layers: int):
    """Embedding -> nn.RNN/LSTM/GRU (batch first, tanh) -> Linear, as a torch.nn.Module."""
    import torch
    from torch import nn

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embedding_dim)
            self.rnn = getattr(nn, TORCH_CELLS[cell])(embedding_dim, units, num_layers=layers, batch_first=True)
            self.head = nn.Linear(units, vocab_size)

        def forward(self, x):  # (batch, time) -> (batch, time, vocab)
            out, _ = self.rnn(self.embed(x))
            return self.head(out)

    torch.manual_seed(0)
    return CharLM()


def train_rate(shape, ids: np.ndarray, vocab_size: int) -> dict:
    """Median training throughput of the PyTorch model on windows of `ids`.

    Args:
        shape: a `bench_train.TrainShape`.
        ids: the encoded training text.
        vocab_size: output classes.
    Returns:
        {"framework", "chars_per_s", "step_ms", "params", "threads"}.
    """
    import torch
    from torch import nn

    from pipelines.text import make_windows

    windows = torch.from_numpy(make_windows(ids, shape.seq_len).astype(np.int64))  # (n, seq + 1)
    model = build_torch_model(shape.cell, vocab_size, shape.embedding_dim, shape.units, shape.layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)

    bf16 = getattr(shape, "products", "float32") == "bfloat16"  # torch.autocast: products in bfloat16

    def step() -> None:
        batch = windows[torch.randint(0, len(windows), (shape.batch_size,), generator=generator)]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(batch[:, :-1])
        loss = loss_fn(logits.float().reshape(-1, vocab_size), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()

    for _ in range(shape.warmup):
        step()
    times = []
    for _ in range(shape.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {"framework": f"torch {torch.__version__}", "chars_per_s": round(shape.batch_size * shape.seq_len / median),
            "step_ms": round(median * 1e3, 1), "params": sum(p.numel() for p in model.parameters()),
            "threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}  # "AVX2" under ATEN_CPU_CAPABILITY=avx2
