"""`python -m kerasrnn.fit --task korean`: a language model over Korean keyboard keys.

The training itself is the corpus language model's (`kerasrnn.tasks.language_model.training`:
the same windows, model, run directory, resume and strategies) on the keys of the train split,
validated on the keys of the validation split; the vocabulary is the keys that occur in training
and `<unk>`. Then the best model is measured on the whole validation and test splits with the state
carried (`kerasrnn.tasks.korean.evaluation`) beside the 5-gram key baseline, and `final` in
metrics.json gains:

    validation / test        {keys, characters, nats_per_key, bits_per_char}  (the RNN)
    baseline_5gram           the same for the n-gram (`kerasrnn.tasks.korean.baseline`)
    beats_baseline           whether the RNN's test bits/char are below the n-gram's
"""

from __future__ import annotations

import os

from kerasrnn.core import runs
from kerasrnn.core.config import Config
from kerasrnn.models.loading import load_run
from kerasrnn.ondevice.hangul import keys_to_text
from kerasrnn.tasks.korean import evaluation
from kerasrnn.tasks.korean.baseline import ORDER, baseline_figures
from kerasrnn.tasks.korean.corpus import key_corpus, key_streams
from kerasrnn.tasks.language_model.training import train as train_language_model
from kerasrnn.training.strategies import is_chief
from pipelines.io import atomic_write_json

EVALUATED = ("validation", "test")  # the splits measured after training


def korean_figures(run, streams=None) -> dict:
    """The RNN's and the n-gram's figures on the validation and test splits (see the module doc)."""
    streams = streams or key_streams()
    out = {}
    for name in EVALUATED:
        ids = evaluation.split_ids(run.vocab, streams[name])
        out[name] = evaluation.figures(evaluation.model_nats(run.model, run.config, ids), streams[name])
    out["evaluation"] = f"whole split, state carried ({evaluation.STREAMS} streams side by side)"
    out[f"baseline_{ORDER}gram"] = baseline_figures(
        streams["train"].keys, {name: (streams[name].text, streams[name].keys) for name in EVALUATED})
    out["beats_baseline"] = out["test"]["bits_per_char"] < out[f"baseline_{ORDER}gram"]["test"]["bits_per_char"]
    return out


def format_figures(figures: dict) -> str:
    """The RNN beside the n-gram, one line per split."""
    base = figures[f"baseline_{ORDER}gram"]
    lines = [f"{'':11s} {'RNN nats/key':>13s} {'bits/char':>10s}   {ORDER}-gram nats/key  bits/char"]
    for name in EVALUATED:
        rnn, ngram = figures[name], base[name]
        lines.append(f"{name:11s} {rnn['nats_per_key']:13.4f} {rnn['bits_per_char']:10.4f}   "
                     f"{ngram['nats_per_key']:15.4f} {ngram['bits_per_char']:10.4f}")
    lines.append(f"(whole splits: {figures['validation']['keys']:,} and {figures['test']['keys']:,} keys, "
                 f"{figures['validation']['characters']:,} and {figures['test']['characters']:,} characters; "
                 f"the RNN {'beats' if figures['beats_baseline'] else 'does NOT beat'} the {ORDER}-gram on test)")
    return "\n".join(lines)


def train_korean(config: Config, run_dir: str, resume: bool = False, verbose: int | str = "auto",
                 command: str = "", strategy: str = "one-device") -> dict:
    """Trains (or resumes) a key model into `run_dir`, then adds the figures to metrics.json; returns `final`."""
    final = train_language_model(config, run_dir, resume=resume, verbose=verbose, command=command,
                                 strategy=strategy, corpus_fn=lambda c, _run_dir: key_corpus(c), render=keys_to_text,
                                 unit="key")
    if strategy == "multi-worker" and not is_chief():
        return final
    figures = korean_figures(load_run(run_dir))
    record = runs.read_metrics(run_dir)
    record["final"].update(figures)
    atomic_write_json(os.path.join(run_dir, runs.METRICS), record)
    print(format_figures(figures))
    return record["final"]
