"""TFDS data set names are checked against the grammar before TFDS is asked, and a download without a network
fails in seconds, in one line."""

from __future__ import annotations

import socket
import time

import pytest

from pipelines.io import DataError
from pipelines.tfds_names import check_tfds_name, first_host, resolves


@pytest.mark.parametrize("name", ["tiny_shakespeare", "wiki40b/en", "tiny_shakespeare:1.0.0", "c4/en.noblocklist:3.1.0",
                                  "kerasrnn_surnames"])
def test_names_of_the_grammar_pass(name):
    assert check_tfds_name(name) == name


@pytest.mark.parametrize("name", ["", "../../etc/passwd", "tiny_shakespeare/x=1", "tiny_shakespeare/..",
                                  "tiny_shakespeare/.", "/abs", "name/", "ns:name", "tiny_shakespeare:9.9",
                                  "tiny_shakespeare:01.0.0", "tiny_shakespeare:*.*.*", "na me", "名前", "a\0b",
                                  "x" * 500, "tiny_shakespeare/en/x=1,y=2"])
def test_names_outside_the_grammar_are_one_line_errors(name):
    with pytest.raises(DataError) as e:
        check_tfds_name(name)
    assert "\n" not in str(e.value) and "tfds:" in str(e.value)


def test_a_slow_lookup_counts_as_unreachable(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: time.sleep(3))
    start = time.monotonic()
    assert not resolves("example.org", timeout=0.2)
    assert time.monotonic() - start < 1.5


def test_the_first_host_is_the_proxys_when_one_is_set(monkeypatch):
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
    assert first_host("https://raw.githubusercontent.com/x") == "proxy.internal"
    monkeypatch.delenv("https_proxy")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    assert first_host("https://raw.githubusercontent.com/x") == "raw.githubusercontent.com"


def test_a_download_without_network_fails_fast_in_one_line(monkeypatch, tmp_path):
    from pipelines.tfds_builders import load_tfds_corpus

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # offline: no name resolves
    start = time.monotonic()
    with pytest.raises(DataError) as e:
        load_tfds_corpus("tiny_shakespeare", data_dir=str(tmp_path))
    took = time.monotonic() - start
    assert "did not resolve" in str(e.value) and "--data-dir" in str(e.value) and "\n" not in str(e.value)
    assert took < 30, f"{took:.0f} s: TFDS retried the download"  # was 10 tries with back-off (209 s offline)


def test_an_unknown_version_is_one_line(tmp_path):
    from pipelines.tfds_builders import load_tfds_corpus

    with pytest.raises(DataError, match="cannot be loaded at version 9.9.9|cannot open"):
        load_tfds_corpus("tiny_shakespeare:9.9.9", data_dir=str(tmp_path))
