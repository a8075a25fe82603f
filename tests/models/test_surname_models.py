"""Surname models: padding never changes a result, unrolled = looped, step = full pass, nationality matters."""

import dataclasses

import numpy as np
import pytest

from kerasrnn.core.config import Config
from kerasrnn.inference.stepping import Stepper
from kerasrnn.models.loading import load_run
from kerasrnn.inference.samplers import softmax
from kerasrnn.tasks.surnames.inference import names_to_ids
from kerasrnn.models.surname_models import build_classifier, build_generator, start_state
from pipelines import surnames as S

LABELS = ["Japanese", "Russian", "Scottish"]
VOCAB = S.surname_vocabulary([("Nakamura", "x"), ("Ivanov", "x"), ("Mcintyre", "x")])


def config(**kw) -> Config:
    return Config(task="surnames", units=8, embedding_dim=4, dropout=0.0, vocab_size=len(VOCAB), labels=LABELS,
                  max_len=12, **kw)


@pytest.mark.parametrize("cell,bidirectional", [("gru", True), ("lstm", False), ("simplernn", True)])
def test_padding_never_changes_a_prediction(cell, bidirectional):
    model = build_classifier(config(cell=cell, bidirectional=bidirectional))
    alone = model(names_to_ids(["Ivanov"], VOCAB, 12)).numpy()
    in_batch = model(names_to_ids(["Ivanov", "Mcintyre", "Nakamura"], VOCAB, 12)).numpy()[:1]
    padded = model(np.pad(names_to_ids(["Ivanov"], VOCAB, 12), ((0, 0), (0, 6)))).numpy()
    np.testing.assert_allclose(in_batch, alone, atol=1e-6)
    np.testing.assert_allclose(padded, alone, atol=1e-6)


@pytest.mark.parametrize("layers,bidirectional", [(1, True), (2, False)])
def test_the_unrolled_classifier_computes_the_same(layers, bidirectional):
    c = config(cell="gru", bidirectional=bidirectional, layers=layers)
    looped, unrolled = build_classifier(c), build_classifier(c, unroll=True)
    unrolled.set_weights(looped.get_weights())
    ids = np.pad(names_to_ids(["Ivanov", "Mcintyre"], VOCAB, 12), ((0, 0), (0, 4)))  # (2, 12)
    np.testing.assert_allclose(unrolled(ids).numpy(), looped(ids).numpy(), atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_generator_steps_equal_the_full_pass_from_the_nationality_state(cell):
    c = dataclasses.replace(config(cell=cell, conditioned=True, layers=2), task="surname-generation")
    model = build_generator(c)
    ids = np.array([[VOCAB.id_of("<s>"), *VOCAB.encode("Ivanov")]], np.int32)  # (1, 7)
    nationality = np.array([1], np.int32)
    full = model({"tokens": ids, "nationality": nationality}).numpy()[0]  # (7, vocab)
    stepper = Stepper(model, c)
    state = start_state(model, c, nationality)  # (1, S)
    assert np.abs(state).max() > 0  # the nationality's embedding, not zeros
    for t in range(ids.shape[1]):
        logits, state = stepper.step(ids[:, t], state)
        np.testing.assert_allclose(logits[0], full[t], atol=1e-5)


def test_unconditioned_generator_starts_from_zeros():
    c = dataclasses.replace(config(cell="gru"), task="surname-generation")
    model = build_generator(c)
    assert [t.name for t in model.inputs] == ["tokens"]
    assert not start_state(model, c, np.array([0, 2])).any()


def test_trained_conditioned_generator_follows_the_nationality(surname_generator):
    run = load_run(surname_generator)
    labels = run.config.labels
    stepper = Stepper(run.model, run.config)
    requested = np.array([labels.index("Japanese"), labels.index("Russian")], np.int32)
    bos = np.full(2, run.vocab.id_of("<s>"), np.int32)
    logits, _ = stepper.step(bos, start_state(run.model, run.config, requested))
    japanese, russian = softmax(logits[0]), softmax(logits[1])
    assert 0.5 * np.abs(japanese - russian).sum() > 0.02  # different first-letter distributions
    again, _ = stepper.step(bos, start_state(run.model, run.config, requested[::-1]))
    np.testing.assert_allclose(again[::-1], logits, atol=1e-6)  # and the same for the same nationality
