"""The bundled Korean corpus as keyboard keys: what the key model trains on and is measured on.

Each split is its documents joined by "\\n" (`pipelines.korean.split_texts`) and typed as keys
(`kerasrnn.ondevice.hangul.text_to_keys`): 'ㄱㅣㅇㅓㄱ ㅅㅗㄱㅇㅡㄹㅗ' for '기억 속으로'. Bits per character
are counted against the NFC text: total bits / its characters (the document separators included).
"""

from __future__ import annotations

from dataclasses import dataclass

from kerasrnn.core.config import Config
from kerasrnn.ondevice.hangul import KEYBOARD, text_to_keys
from pipelines.korean import split_texts
from pipelines.text import Corpus

SOURCE = f"korean ({KEYBOARD})"  # the corpus name in metrics.json and the manifest
SPLIT_RULE = ("by document: pipelines/data/korean/split.json (about 80/10/10 of each source's characters); "
              "each split's documents joined by a line break")


@dataclass
class KeyStream:
    """One split: its NFC text and the keys that type it."""

    text: str  # documents joined by "\n"
    keys: str  # text_to_keys(text)


def key_streams() -> dict[str, KeyStream]:
    """Split name (train, validation, test) -> its text and keys."""
    return {name: KeyStream(text, text_to_keys(text)) for name, text in split_texts().items()}


def key_corpus(config: Config | None = None, streams: dict[str, KeyStream] | None = None) -> Corpus:
    """The training corpus of the korean task: the keys of the train and validation splits."""
    streams = streams or key_streams()
    return Corpus(SOURCE, streams["train"].keys, streams["validation"].keys)
