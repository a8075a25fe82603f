"""TensorFlow Datasets builders for the bundled corpora, and loading of any TFDS text data set.

The builders read the files bundled in `pipelines/data/` (no network), so a TFDS user
gets the same corpus the way TFDS users expect:

    import pipelines.tfds_builders  # registers the builders
    ds = tfds.load("kerasrnn_tiny_shakespeare", split="validation")
    ds = tfds.load("kerasrnn_surnames", split="test")   # {"surname", "nationality"}

`python -m kerasrnn.fit --dataset tfds:NAME` trains on any TFDS data set with a text feature.
"""

from __future__ import annotations

import tensorflow_datasets as tfds

from pipelines.io import DataError, read_text
from pipelines.bundled import bundled_path, split_text
from pipelines.tfds_names import DNS_TIMEOUT, check_tfds_name, fail_fast_downloads

NO_GCS = tfds.download.DownloadConfig(try_download_gcs=False)  # offline: never ask GCS


class KerasrnnTinyShakespeare(tfds.core.GeneratorBasedBuilder):
    """Tiny Shakespeare as bundled with kerasrnn: one example per split, cut 90/10 by characters."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First 90% of characters train, last 10% validate."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description="40,000 lines of Shakespeare (karpathy/char-rnn), public domain.",
            features=tfds.features.FeaturesDict({"text": tfds.features.Text()}),
            homepage="https://github.com/karpathy/char-rnn",
        )

    def _split_generators(self, dl_manager):
        train, validation = split_text(read_text(bundled_path("shakespeare")))
        return {"train": self._generate_examples(train),
                "validation": self._generate_examples(validation)}

    def _generate_examples(self, text: str):
        yield 0, {"text": text}


class KerasrnnSurnames(tfds.core.GeneratorBasedBuilder):
    """Surnames by language of origin, bundled with kerasrnn, in the project's fixed 70/15/15 split."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "18 nationalities; split by distinct surname, stratified (pipelines.surnames)."}

    def _info(self) -> tfds.core.DatasetInfo:
        from pipelines.surnames import nationalities, read_pairs

        return self.dataset_info_from_configs(
            description="Surnames of 18 languages of origin (the PyTorch name-classification data), deduplicated.",
            features=tfds.features.FeaturesDict({
                "surname": tfds.features.Text(),
                "nationality": tfds.features.ClassLabel(names=nationalities(read_pairs()))}),
            supervised_keys=("surname", "nationality"),
            homepage="https://pytorch.org/tutorials/intermediate/char_rnn_classification_tutorial.html",
        )

    def _split_generators(self, dl_manager):
        from pipelines.surnames import load_surnames

        return {split: self._generate_examples(pairs) for split, pairs in load_surnames().items()}

    def _generate_examples(self, pairs):
        for surname, label in pairs:
            yield f"{label}/{surname}", {"surname": surname, "nationality": label}


def _text_feature(info: tfds.core.DatasetInfo, name: str) -> str:
    """The name of the data set's text feature ('text' when there is one)."""
    features = info.features
    keys = [k for k, f in features.items() if isinstance(f, tfds.features.Text)]
    if "text" in keys:
        return "text"
    if not keys:
        raise DataError(f"TFDS dataset {name!r} has no text feature (features: {list(features)})")
    return keys[0]


def _first_line(e: BaseException) -> str:
    """The first line of an exception's message, or its type's name."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _read_split(builder: tfds.core.DatasetBuilder, split: str, key: str) -> str:
    pieces = [ex[key].decode("utf-8") for ex in tfds.as_numpy(builder.as_dataset(split=split))]
    return "\n".join(pieces)


def load_tfds_corpus(name: str, data_dir: str | None = None) -> tuple[str, str]:
    """Reads a TFDS text data set into (train, validation) strings.

    Uses the data set's own `validation` split when it has one; otherwise cuts its
    `train` split 90/10 by characters.

    Raises:
        DataError: unknown data set, not downloadable or prepared, or no text feature.
    """
    check_tfds_name(name)
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise DataError(f"unknown TFDS dataset {name!r}") from None
    except Exception as e:  # an unknown config or version: TFDS raises ValueError, AssertionError, ...
        raise DataError(f"TFDS cannot open dataset {name!r}: {_first_line(e)}") from None
    with fail_fast_downloads() as unreachable:
        try:
            builder.download_and_prepare(download_config=NO_GCS)
        except Exception as e:  # TFDS raises many kinds; the user needs one line
            if unreachable:
                raise DataError(f"cannot download TFDS dataset {name!r}: {unreachable[0]} did not resolve within "
                                f"{DNS_TIMEOUT:g} s (no network?); prepare it where there is one and pass that "
                                f"folder with --data-dir") from None
            raise DataError(f"cannot prepare TFDS dataset {name!r} (no network or data_dir?): {_first_line(e)}") \
                from None
    key = _text_feature(builder.info, name)
    splits = builder.info.splits
    if "train" not in splits:
        raise DataError(f"TFDS dataset {name!r} has no train split (splits: {list(splits)})")
    train = _read_split(builder, "train", key)
    if "validation" in splits:
        validation = _read_split(builder, "validation", key)
    else:
        train, validation = split_text(train)
    if not train.strip():
        raise DataError(f"TFDS dataset {name!r} has an empty train split")
    return train, validation
