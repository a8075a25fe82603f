"""kerasrnn: SimpleRNN, LSTM and GRU character models with Keras 3, from training to devices.

Commands: `python -m kerasrnn.fit`, `kerasrnn.sample`, `kerasrnn.evaluate`, `kerasrnn.export`,
`kerasrnn.complete` (LiteRT only) and `kerasrnn.bench`.
"""

__version__ = "0.1.0"
