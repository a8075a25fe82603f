"""The character language model of a corpus (tiny Shakespeare by default): training and export."""
