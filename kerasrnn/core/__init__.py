"""The shared core: the run configuration, the run directory, command-line errors and plots.

Nothing here imports TensorFlow or Keras at module level; every other package builds on it.
"""
