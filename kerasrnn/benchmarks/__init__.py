"""Benchmarks behind `python -m kerasrnn.bench`: training throughput (kerasrnn, stock Keras, PyTorch)
and an export's step and keystroke latency. They write JSON; timings belong to their machine."""
