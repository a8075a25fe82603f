"""Korean keystroke autocomplete: a language model over the keys of the Korean keyboard (2-beolsik),
trained on the bundled Korean corpus; its figures beside an n-gram baseline, and its export."""
