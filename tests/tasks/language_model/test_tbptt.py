"""Truncated backpropagation through time: consecutive chunks, state carried, the same run directory."""

import json
import os

import numpy as np
import pytest

from kerasrnn import fit
from kerasrnn.core.config import CELLS, Config
from kerasrnn.models.char_model import build_model
from kerasrnn.models.loading import load_run
from pipelines.text import stream_dataset
from conftest import TINY_ARGS


def test_each_batch_row_continues_the_previous_one():
    ids = np.arange(1, 42)  # 41 characters: 3 streams of 13 (+1 target), chunks of 4
    batches = [(x.numpy(), y.numpy()) for x, y in stream_dataset(ids, seq_len=4, batch_size=3)]
    assert len(batches) == 3
    x0, y0 = batches[0]
    assert x0.tolist() == [[1, 2, 3, 4], [14, 15, 16, 17], [27, 28, 29, 30]]
    assert y0.tolist() == [[2, 3, 4, 5], [15, 16, 17, 18], [28, 29, 30, 31]]
    assert batches[1][0][:, 0].tolist() == [5, 18, 31]  # row b of batch k+1 continues row b of batch k


@pytest.mark.parametrize("cell", CELLS)
def test_stateful_chunks_equal_one_full_pass(cell):
    config = Config(cell=cell, units=12, embedding_dim=6, layers=2, dropout=0.0, vocab_size=20)
    full = build_model(config)
    stateful = build_model(config, stateful_batch=2)
    stateful.set_weights(full.get_weights())
    ids = np.random.default_rng(0).integers(0, 20, size=(2, 30)).astype(np.int32)
    expected = full(ids).numpy()
    chunks = [stateful(ids[:, i:i + 7]).numpy() for i in range(0, 30, 7)]  # 7, 7, 7, 7, 2 steps
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), expected, atol=1e-5)


def test_tbptt_run_trains_and_saves_a_stateless_model(tmp_path, tiny_text):
    run_dir = str(tmp_path / "run")
    argv = ["--text", tiny_text, "--run-dir", run_dir, "--tbptt", *TINY_ARGS]
    argv[argv.index("--epochs") + 1] = "3"
    assert fit.main(argv) == 0
    record = json.load(open(os.path.join(run_dir, "metrics.json")))
    val = [e["val_loss_nats"] for e in record["epochs"]]
    assert len(val) == 3 and val[-1] < val[0] < np.log(60)
    run = load_run(run_dir)
    assert run.config.tbptt and run.model.input.shape[0] is None  # saved stateless: any batch size
    assert record["final"]["val_loss_nats"] == pytest.approx(min(val), abs=1e-4)
