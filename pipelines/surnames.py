"""Surnames by language of origin: reading, the fixed 70/15/15 split, and the tf.data pipelines.

The data are the 18 lists in `pipelines/data/names/` (one surname per line, one file per
language; see SOURCES.md). Reading NFC-normalises and strips every line, drops empty ones and
keeps each (surname, nationality) pair once.

The split is by distinct surname, so no surname is in two splits, and stratified by
nationality with seed 1337. The rule for a surname listed under several nationalities (469 of
17,451, e.g. every Scottish name is also English): all its pairs go to the same split, and the
surname is stratified under its rarest nationality (the class that needs examples most). The
generator learns from every pair; the classifier, by default, from one label per surname, that
rarest nationality (`load_surnames(ambiguous="rarest")`), so each name has one right answer;
`--ambiguous all` keeps every pair for it too. The split is saved in `pipelines/data/surnames_split.json`, so
every run and test uses the same one; `python -m pipelines.surnames` writes it again and says
whether it changed.

Pipelines (padding id 0, which `Embedding(mask_zero=True)` masks):
    classification_dataset: (ids (batch, time), nationality (batch,))
    generation_dataset: ({"ids": <s> + surname, "nationality"}, surname + </s>), both (batch, time)
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections import Counter, defaultdict

import numpy as np

from pipelines.io import DataError, atomic_write_json, read_text
from pipelines.bundled import DATA_DIR
from pipelines.vocab import BOS, EOS, PAD, UNK, Vocabulary

NAMES_DIR = os.path.join(DATA_DIR, "names")
SPLIT_FILE = os.path.join(DATA_DIR, "surnames_split.json")
SPLITS = ("train", "validation", "test")
FRACTIONS = (0.70, 0.15, 0.15)  # train, validation, test
SEED = 1337
SPELLING = {"Portugese": "Portuguese"}  # file name -> nationality label, where the file is misspelt
SPECIALS = (PAD, UNK, BOS, EOS)  # PAD first: id 0
AMBIGUOUS = ("all", "rarest")  # how a surname of several nationalities is labelled (see load_surnames)


def nationality_of(filename: str) -> str:
    """The label of a names file, e.g. 'Portugese.txt' -> 'Portuguese'."""
    stem = os.path.splitext(os.path.basename(filename))[0]
    return SPELLING.get(stem, stem)


def read_pairs(folder: str = NAMES_DIR) -> list[tuple[str, str]]:
    """Every distinct (surname, nationality) pair of the folder's `.txt` files, sorted.

    Raises:
        DataError: a missing folder, a file that is not UTF-8, or no names at all.
    """
    if not os.path.isdir(folder):
        raise DataError(f"no such names folder: {folder}")
    pairs = set()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".txt"):
            label = nationality_of(name)
            for line in read_text(os.path.join(folder, name)).splitlines():
                surname = unicodedata.normalize("NFC", line).strip()
                if surname:
                    pairs.add((surname, label))
    if not pairs:
        raise DataError(f"no surnames in {folder}")
    return sorted(pairs)


def nationalities(pairs: list[tuple[str, str]]) -> list[str]:
    """The class labels, sorted (the class id is the index)."""
    return sorted({label for _, label in pairs})


def make_split(pairs: list[tuple[str, str]], seed: int = SEED) -> dict[str, list[str]]:
    """Assigns each distinct surname to train, validation or test (see the module doc for the rule).

    Returns:
        {"train": [surnames], "validation": [...], "test": [...]}, each sorted.
    """
    strata = defaultdict(list)
    for surname, label in sorted(rarest_nationality(pairs).items()):
        strata[label].append(surname)
    rng = np.random.default_rng(seed)
    out = {s: [] for s in SPLITS}
    for label in sorted(strata):
        names = strata[label]
        order = rng.permutation(len(names))
        n_train = round(len(names) * FRACTIONS[0])
        n_val = round(len(names) * FRACTIONS[1])
        cuts = {"train": order[:n_train], "validation": order[n_train:n_train + n_val],
                "test": order[n_train + n_val:]}
        for split, idx in cuts.items():
            out[split].extend(names[i] for i in idx)
    return {s: sorted(v) for s, v in out.items()}


def save_split(split: dict[str, list[str]], path: str = SPLIT_FILE) -> None:
    """Writes the split (atomically) with the rule that made it."""
    atomic_write_json(path, {"seed": SEED, "fractions": dict(zip(SPLITS, FRACTIONS)),
                             "rule": "by distinct surname, stratified by its rarest nationality",
                             **split})


def rarest_nationality(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Each surname's rarest nationality (fewest pairs in `pairs`; ties by name): the split's stratum."""
    counts = Counter(label for _, label in pairs)
    labels_of = defaultdict(set)
    for surname, label in pairs:
        labels_of[surname].add(label)
    return {surname: min(labels, key=lambda lab: (counts[lab], lab)) for surname, labels in labels_of.items()}


def load_surnames(folder: str = NAMES_DIR, split_path: str = SPLIT_FILE,
                  ambiguous: str = "all") -> dict[str, list[tuple[str, str]]]:
    """The (surname, nationality) pairs of each split, by the saved split file.

    Args:
        folder, split_path: the names files and the split.
        ambiguous: for a surname listed under several nationalities, "all" keeps each of its pairs
            (what a generator learns from); "rarest" keeps one pair, its rarest nationality (what the
            classifier learns: one right answer per name, the most distinctive one).
    Raises:
        DataError: the split file is missing, unreadable, or does not cover exactly the data.
    """
    pairs = read_pairs(folder)
    try:
        with open(split_path, encoding="utf-8") as f:
            saved = json.load(f)
        where = {name: s for s in SPLITS for name in saved[s]}
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"cannot read the surname split {split_path} ({type(e).__name__}); "
                        f"write it with: python -m pipelines.surnames") from None
    surnames = {surname for surname, _ in pairs}
    if set(where) != surnames:
        raise DataError(f"the surname split {split_path} does not match the data "
                        f"({len(set(where) ^ surnames)} surnames differ); write it with: python -m pipelines.surnames")
    if ambiguous not in AMBIGUOUS:
        raise ValueError(f"ambiguous must be one of {AMBIGUOUS}")
    if ambiguous == "rarest":
        pairs = sorted(rarest_nationality(pairs).items())
    out = {s: [] for s in SPLITS}
    for surname, label in pairs:
        out[where[surname]].append((surname, label))
    return out


def surname_vocabulary(pairs: list[tuple[str, str]]) -> Vocabulary:
    """The characters of the (training) surnames, after <pad> (id 0), <unk>, <s> and </s>."""
    return Vocabulary.build((surname for surname, _ in pairs), specials=SPECIALS)


def class_ids(pairs, labels: list[str]) -> np.ndarray:
    """Each pair's nationality as its class id (its index in `labels`): (pairs,) int32."""
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[label] for _, label in pairs], np.int32)


def clean_name(name: str) -> str:
    """A name as the training data holds it: NFC-normalised and stripped."""
    return unicodedata.normalize("NFC", name).strip()


def names_to_ids(names: list[str], vocab: Vocabulary, max_len: int, warn=None, pad_to: int | None = None) -> np.ndarray:
    """Encodes names for a classifier: NFC, stripped, cut to `max_len`, unknown characters -> <unk>.

    Args:
        names: the surnames.
        vocab: the model's vocabulary (<pad> is id 0).
        max_len: the longest name the model reads; longer names are cut, with a notice.
        warn: where notices go (a function of one line; default: stderr).
        pad_to: the width to pad to (default: the longest name).
    Returns:
        (batch, pad_to or longest) int32 ids, padded with 0.
    Raises:
        DataError: an empty name.
    """
    warn = warn or (lambda line: print(line, file=sys.stderr))
    rows = []
    for raw in names:
        name = clean_name(raw)
        if not name:
            raise DataError("an empty name cannot be classified")
        if len(name) > max_len:
            warn(f"notice: {name!r} is longer than the model's {max_len} characters; "
                 f"only {name[:max_len]!r} is read")
            name = name[:max_len]
        unknown = vocab.unknown_chars(name)
        if unknown:
            warn(f"notice: {''.join(unknown)!r} in {name!r} never appeared in training; read as <unk>")
        rows.append(vocab.encode(name))
    out = np.zeros((len(rows), pad_to or max(len(r) for r in rows)), np.int32)  # 0 is <pad>
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def encode_names(names, vocab: Vocabulary, max_len: int | None = None) -> list[np.ndarray]:
    """Each name's character ids (unknown characters -> <unk>), cut to `max_len` characters."""
    return [vocab.encode(name[:max_len] if max_len else name) for name in names]


def _batched(rows, extra: dict, targets, batch_size: int, shuffle: bool, seed: int):
    """Batches of variable-length id rows, each batch padded with 0 to its own longest row."""
    import tensorflow as tf

    lengths = np.array([len(r) for r in rows], np.int64)
    flat = np.concatenate(rows).astype(np.int32)
    ragged = tf.RaggedTensor.from_row_lengths(flat, lengths)
    ds = tf.data.Dataset.from_tensor_slices((ragged, extra, targets))
    if shuffle:
        ds = ds.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    return ds.ragged_batch(batch_size).map(lambda ids, e, y: (ids.to_tensor(0), e, y))  # (batch, longest)


def classification_dataset(pairs, vocab: Vocabulary, labels: list[str], batch_size: int,
                           shuffle: bool = False, seed: int = SEED, max_len: int | None = None):
    """Padded batches of (character ids (batch, time), class id (batch,)).

    Each batch is padded with 0 to its longest name; unknown characters map to <unk>;
    names are cut to `max_len` characters.
    """
    import tensorflow as tf

    rows = encode_names((surname for surname, _ in pairs), vocab, max_len)
    classes = class_ids(pairs, labels)
    ds = _batched(rows, {}, classes, batch_size, shuffle, seed)
    return ds.map(lambda ids, _, y: (ids, y)).prefetch(tf.data.AUTOTUNE)


def generation_dataset(pairs, vocab: Vocabulary, labels: list[str], batch_size: int,
                       shuffle: bool = False, seed: int = SEED, max_len: int | None = None):
    """Padded batches of ({"ids": <s> + surname, "nationality"}, surname + </s>) for a surname generator.

    `max_len` cuts each surname (before </s> is added).
    """
    import tensorflow as tf

    bos, eos = vocab.id_of(BOS), vocab.id_of(EOS)
    encoded = encode_names((surname for surname, _ in pairs), vocab, max_len)
    rows = [np.concatenate([[bos], e, [eos]]).astype(np.int32) for e in encoded]  # <s> surname </s>
    classes = class_ids(pairs, labels)
    ds = _batched(rows, {"nationality": classes}, classes, batch_size, shuffle, seed)

    def split(ids, extra, _):  # ids (batch, time + 1): <s> surname </s> 0 ...
        targets = ids[:, 1:]  # (batch, time)
        inputs = tf.where(targets == 0, 0, ids[:, :-1])  # padding wherever the target is padding
        return {"ids": inputs, "nationality": extra["nationality"]}, targets

    return ds.map(split).prefetch(tf.data.AUTOTUNE)


def main(argv: list[str] | None = None) -> int:
    """`python -m pipelines.surnames`: writes the split file again and reports its sizes."""
    pairs = read_pairs()
    split = make_split(pairs)
    before = None
    if os.path.exists(SPLIT_FILE):
        with open(SPLIT_FILE, encoding="utf-8") as f:
            saved = json.load(f)
        before = {s: saved.get(s) for s in SPLITS}
    save_split(split)
    sizes = ", ".join(f"{s} {len(split[s]):,}" for s in SPLITS)
    print(f"{len(pairs):,} (surname, nationality) pairs, {sum(map(len, split.values())):,} distinct surnames: {sizes}")
    print("unchanged" if before == split else f"wrote {SPLIT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
