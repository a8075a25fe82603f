"""Sampling and evaluating a trained run."""

import dataclasses
import json
import math
import os
import shutil

import numpy as np

from kerasrnn import evaluate, sample
from kerasrnn.inference.evaluation import evaluate_loss
from kerasrnn.inference.stepping import Stepper, generate
from kerasrnn.models.loading import load_run
from conftest import run_cli, run_main


def test_sample_streams_text_from_the_vocabulary(tiny_run, capsys):
    assert sample.main([tiny_run, "--prime", "First", "--length", "200", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("First") and len(out) == len("First") + 200 + 1
    vocab = json.load(open(os.path.join(tiny_run, "vocab.json")))["tokens"]
    assert set(out[:-1]) <= set(vocab)


def test_sampling_is_seeded_and_greedy_is_deterministic(tiny_run):
    run = load_run(tiny_run)
    stepper = Stepper(run.model, run.config)
    a = "".join(generate(stepper, run.vocab, "The", 50, seed=1))
    assert a == "".join(generate(stepper, run.vocab, "The", 50, seed=1))
    g1 = "".join(generate(stepper, run.vocab, "The", 30, seed=1, top_k=1))
    assert g1 == "".join(generate(stepper, run.vocab, "The", 30, seed=2, top_k=1))


def test_generation_carries_state_like_a_full_pass(tiny_run):
    run = load_run(tiny_run)
    stepper = Stepper(run.model, run.config)
    ids = run.vocab.encode("First Citizen:\nBefore we proceed")
    logits, _ = stepper.feed(ids)
    full = np.asarray(run.model(ids[None], training=False))[0, -1]
    np.testing.assert_allclose(logits, full, atol=1e-5)


def test_unknown_prime_characters_warn_and_sample(tiny_run, capsys):
    assert sample.main([tiny_run, "--prime", "Zoë 😀", "--length", "20"]) == 0
    captured = capsys.readouterr()
    assert "not in the vocabulary" in captured.err and len(captured.out) > 20


def test_evaluate_validation_matches_training_record(tiny_run, capsys):
    assert evaluate.main([tiny_run, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    final = json.load(open(os.path.join(tiny_run, "metrics.json")))["final"]
    assert abs(result["loss_nats"] - final["val_loss_nats"]) < 1e-4
    assert math.isclose(result["bpc"], result["loss_nats"] / math.log(2), rel_tol=1e-3)


def test_evaluate_on_a_file_with_unknown_characters(tiny_run, tmp_path, capsys):
    p = tmp_path / "other.txt"
    p.write_text("ROMEO: what light through yonder window breaks? 12345 ✓\n" * 20, encoding="utf-8")
    assert evaluate.main([tiny_run, "--text", str(p)]) == 0
    captured = capsys.readouterr()
    assert "nats/char" in captured.out and "not in the vocabulary" in captured.err


def test_evaluate_loss_is_the_mean_cross_entropy(tiny_run):
    run = load_run(tiny_run)
    ids = run.vocab.encode("First Citizen:\nYou are all resolved rather to die than to famish?\n")
    logits = np.asarray(run.model(ids[None, :-1], training=False))[0]
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    expected = -logp[np.arange(len(ids) - 1), ids[1:]].mean()
    assert abs(evaluate_loss(run.model, ids, seq_len=len(ids) - 1) - expected) < 1e-4


def test_bad_sampling_options_and_files(tiny_run, tmp_path):
    out = run_main("kerasrnn.sample", tiny_run, "--temperature", "0")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "temperature" in out.stderr
    out = run_main("kerasrnn.sample", str(tmp_path / "nowhere"))
    assert out.returncode == 2 and "no such run directory" in out.stderr
    broken = tmp_path / "broken"
    shutil.copytree(tiny_run, broken)
    (broken / "best.keras").write_bytes(b"not a zip file at all")
    for module, run in (("kerasrnn.sample", run_main), ("kerasrnn.evaluate", run_cli)):  # one in a fresh process
        out = run(module, str(broken))
        assert out.returncode == 2 and "corrupt" in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_carried_evaluation_is_one_long_pass_per_stream(tiny_run, capsys):
    from kerasrnn.inference.evaluation import evaluate_carried

    run = load_run(tiny_run)
    ids = run.vocab.encode("First Citizen:\nYou are all resolved rather to die than to famish?\n" * 3)
    seq_len = 20
    config = dataclasses.replace(run.config, seq_len=seq_len)
    n = ((len(ids) - 2) // seq_len) * seq_len  # the targets one stream of chunks covers
    logits = np.asarray(run.model(ids[None, :n], training=False))[0].astype(np.float64)
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    expected = -logp[np.arange(n), ids[1:n + 1]].mean()
    assert abs(evaluate_carried(run.model, config, ids, streams=1) - expected) < 1e-4
    assert evaluate.main([tiny_run, "--carried"]) == 0
    assert "validation split (carried)" in capsys.readouterr().out


def test_windows_of_any_length_and_the_carried_state_through_a_step_function(tiny_run, tiny_export, capsys):
    from kerasrnn.inference.evaluation import carried_step_loss, evaluate_run
    from kerasrnn.ondevice.litert import open_step

    run = load_run(tiny_run)
    ids = run.vocab.encode("First Citizen:\nYou are all resolved rather to die than to famish?\n" * 2)
    logits = np.asarray(run.model(ids[None, :-1], training=False))[0].astype(np.float64)
    z = logits - logits.max(-1, keepdims=True)
    _, step = open_step(tiny_export, "float")  # the float file: the int8 one is within 0.01 bits/char, not 1e-4
    n = len(ids) - 2  # one stream: every target but the last (whole chunks of 1 character)
    expected = -(z - np.log(np.exp(z).sum(-1, keepdims=True)))[np.arange(n), ids[1:n + 1]].mean()
    assert abs(carried_step_loss(step, ids, step.state_size, seq_len=1, streams=1) - expected) < 1e-4
    for window in (16, 40):
        result = evaluate_run(tiny_run, window=window)
        assert result["window"] == window and result["state"] == f"windows of {window}"
    assert evaluate_run(tiny_run, window=16)["loss_nats"] != evaluate_run(tiny_run, window=40)["loss_nats"]


def test_sample_primes_from_a_file(tiny_run, tmp_path, capsys):
    prime = tmp_path / "prime.txt"
    prime.write_text("First Citizen:\n" * 100, encoding="utf-8")  # any size: no argument-length limit
    assert sample.main([tiny_run, "--prime-file", str(prime), "--length", "5", "--no-prime"]) == 0
    assert len(capsys.readouterr().out) == 6


def run_status(main, argv) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # argparse refused it
        return e.code


def test_non_finite_sampling_settings_are_one_line(tiny_run, capsys):
    for argv, message in [(["--temperature", "nan"], "--temperature must be in [0.01, 100] (got nan)"),
                          (["--temperature", "inf"], "--temperature must be in [0.01, 100] (got inf)"),
                          (["--temperature", "1e-300"], "--temperature must be in [0.01, 100]"),
                          (["--top-p", "nan"], "--top-p must be in (0, 1]"),
                          (["--seed", "-1"], "--seed must be at least 0"),
                          (["--prime-file", "/dev/zero"], "/dev/zero is not a regular file")]:
        assert run_status(sample.main, [tiny_run, *argv]) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_evaluate_refuses_what_it_cannot_measure(tiny_run, tmp_path, capsys):
    assert evaluate.main([tiny_run, "--text", "/dev/zero"]) == 2  # was: MemoryError
    assert "/dev/zero is not a regular file" in capsys.readouterr().err
