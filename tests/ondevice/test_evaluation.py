"""An export measured with LiteRT alone gives the Keras model's figures."""

import json

import pytest

from kerasrnn import evaluate


def test_an_export_evaluates_with_litert_as_its_run_does(tiny_run, tiny_export, capsys):
    for flags in (["--window", "24"], ["--carried"], []):
        assert evaluate.main([tiny_run, "--json", *flags]) == 0
        keras_result = json.loads(capsys.readouterr().out)
        assert evaluate.main([tiny_export, "--json", *flags]) == 0
        lite_result = json.loads(capsys.readouterr().out)
        assert lite_result["state"] == keras_result["state"] and "LiteRT" in lite_result["run"]
        assert abs(lite_result["loss_nats"] - keras_result["loss_nats"]) < 1e-4, (flags, lite_result, keras_result)
    assert evaluate.main([tiny_export, "--model", "int8", "--window", "24"]) == 0
    assert "windows of 24" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        evaluate.main([tiny_export, "--window", "0"])
    assert refused.value.code == 2 and "--window must be at least 1" in capsys.readouterr().err
