"""`python -m kerasrnn.bench data`: the generated corpora and its options (the measurement itself is run by hand:
it takes minutes)."""

import os

from conftest import run_cli
from kerasrnn.benchmarks import data as data_module
from kerasrnn.benchmarks.data import generate
from pipelines.bundled import DATA_DIR, bundled_path


def test_generated_corpora_are_reshuffled_lines_of_the_bundled_texts(tmp_path):
    path = tmp_path / "c.txt"
    generate(str(path), 300_000, seed=1)
    data = path.read_bytes()
    assert 300_000 - 3 <= len(data) <= 300_000  # cut where a character starts
    lines = set(open(bundled_path("shakespeare"), encoding="utf-8").read().splitlines())
    for name in os.listdir(os.path.join(DATA_DIR, "names")):
        lines |= set(open(os.path.join(DATA_DIR, "names", name), encoding="utf-8").read().splitlines())
    got = data.decode("utf-8").splitlines()[:-1]  # the last line may be cut
    assert all(line in lines for line in got)
    generate(str(tmp_path / "d.txt"), 300_000, seed=2)
    assert (tmp_path / "d.txt").read_bytes() != data  # another order


def test_a_corpus_ends_with_a_whole_character(tmp_path, monkeypatch):
    (tmp_path / "text.txt").write_text("é\n", encoding="utf-8")  # every third byte inside a character
    monkeypatch.setattr(data_module, "bundled_path", lambda name: str(tmp_path / "text.txt"))
    monkeypatch.setattr(data_module, "DATA_DIR", str(tmp_path / "none"))
    for size in range(1, 12):
        generate(str(tmp_path / "c.txt"), size)
        text = (tmp_path / "c.txt").read_bytes().decode("utf-8")
        assert text == ("é\n" * 4)[: len(text)] and size - 1 <= len(text.encode("utf-8")) <= size


def test_bad_sizes_are_one_line(tmp_path):
    for sizes in ("0", "ten", "", "none"):  # none: only the pipeline rounds, which --rounds 0 leaves out
        out = run_cli("kerasrnn.bench", "data", "--sizes", sizes, "--rounds", "0", "--json", str(tmp_path / "d.json"),
                      timeout=120)
        assert out.returncode == 2 and "--sizes" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "d.json").exists()
