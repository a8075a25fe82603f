"""`python -m kerasrnn.evaluate RUN_DIR [--text FILE]`: loss in nats and bits per character.

Without --text it measures the run's own validation split (the last 10% of its corpus), in
windows of the run's --seq-len each read from a zero state (as in training), or with --carried
with the state carried through the text (as a --tbptt model is trained and used).
"""

from __future__ import annotations

import json
import sys

from kerasrnn import cli

DEFAULT_BATCH = 128  # windows per evaluation batch


def evaluate_loss(model, ids, seq_len: int, batch_size: int = DEFAULT_BATCH) -> float:
    """Mean cross-entropy in nats per character of `model` on encoded text.

    The text is cut into windows as in training (stride `seq_len`, each window
    starting from a zero state); a text shorter than one window is one window.

    Args:
        model: a sequence model, tokens (batch, time) -> logits (batch, time, vocab).
        ids: encoded text, (n,) with n >= 2.
        seq_len: window length.
        batch_size: windows per batch.
    Returns:
        Nats per character.
    """
    import keras

    from pipelines.text import lm_dataset

    if len(ids) < 2:
        from pipelines.io import DataError

        raise DataError("text too short to evaluate: it needs at least 2 characters")
    seq_len = min(seq_len, len(ids) - 1)
    ds = lm_dataset(ids, seq_len, batch_size, shuffle=False, drop_remainder=False)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return float(model.evaluate(ds, verbose=0))


def evaluate_carried(model, config, ids, streams: int = 16) -> float:
    """Nats per character with the state carried through the text (as a `--tbptt` model was trained).

    The text is cut into `streams` contiguous streams read in chunks of `config.seq_len` by a
    stateful copy of `model`, so every character but the first of a stream has all its history.
    """
    import keras

    from kerasrnn.models import build_model
    from pipelines.text import stream_dataset

    stateful = build_model(config, stateful_batch=streams)
    stateful.set_weights(model.get_weights())
    stateful.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return float(stateful.evaluate(stream_dataset(ids, config.seq_len, streams), verbose=0))


def evaluate_run(run_dir: str, text_file: str | None = None, carried: bool = False) -> dict:
    """Evaluates a run's best model on its validation split or on a text file.

    Returns:
        {"run", "data", "characters", "loss_nats", "bpc"}.
    """
    from kerasrnn.callbacks import bits
    from kerasrnn.runs import load_run
    from pipelines.io import read_text
    from pipelines.text import load_corpus

    run = load_run(run_dir)
    if text_file:
        text, data = read_text(text_file), text_file
    else:
        c = run.config
        text, data = load_corpus(c.dataset, c.text, c.data_dir).validation, "validation split"
    ids = run.vocab.encode(text, warn=True)
    if carried:
        nats = evaluate_carried(run.model, run.config, ids)
    else:
        nats = evaluate_loss(run.model, ids, run.config.seq_len)
    return {"run": run_dir, "data": data, "state": "carried" if carried else "windows", "characters": len(text),
            "loss_nats": round(nats, 5), "bpc": round(bits(nats), 5)}


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("kerasrnn.evaluate", __doc__.splitlines()[0])
    p.add_argument("run_dir", help="a run directory written by kerasrnn.fit")
    p.add_argument("--text", default=None, help="a UTF-8 text file to evaluate on (default: the run's validation split)")
    p.add_argument("--carried", action="store_true",
                   help="carry the state through the text (16 streams) instead of windows of --seq-len from a zero state")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = p.parse_args(argv)

    def body() -> int:
        cli.quiet_tensorflow()
        result = evaluate_run(args.run_dir, args.text, args.carried)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['data']} ({result['state']}): {result['characters']:,} characters, "
                  f"loss {result['loss_nats']:.4f} nats/char = {result['bpc']:.4f} bits/char")
        return 0

    return cli.run(body, "kerasrnn.evaluate")


if __name__ == "__main__":
    sys.exit(main())
