"""The resume backup survives a kill in the middle of writing it."""

import json

import keras
import numpy as np

from kerasrnn.training.callbacks import Backup


def tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_backups_are_whole_files_and_a_torn_one_falls_back_to_the_previous(tmp_path):
    model = tiny_model()
    x, y = np.ones((8, 3), np.float32), np.zeros((8, 2), np.float32)
    backup = Backup(str(tmp_path), save_freq=1, double_checkpoint=True, delete_checkpoint=False)
    model.fit(x, y, batch_size=4, epochs=2, callbacks=[backup], verbose=0)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json",
                     "training_metadata.json.bkp"]  # no temporary file left behind
    (tmp_path / "training_metadata.json").write_text('{"epo')  # torn, as a kill mid-write left it once
    restored = tiny_model()
    restored.optimizer.build(restored.trainable_variables)
    resume = Backup(str(tmp_path))
    resume.set_model(restored)
    resume.on_train_begin()
    assert restored._initial_epoch == json.loads((tmp_path / "training_metadata.json").read_text())["epoch"]


def test_a_non_chief_worker_restores_but_never_writes(tmp_path):
    model = tiny_model()
    worker = Backup(str(tmp_path / "backup"), chief=False, save_freq=1)
    model.fit(np.ones((8, 3), np.float32), np.zeros((8, 2), np.float32), epochs=1, callbacks=[worker], verbose=0)
    assert not (tmp_path / "backup").exists()
