"""Benchmarks behind `python -m kerasrnn.bench`: training throughput (kerasrnn, stock Keras, PyTorch)
an export's step and keystroke latency, and the same in the browser page (headless chromium). They write
JSON; timings belong to their machine."""
