"""The on-device runtime: an export read with numpy and LiteRT only, and the autocompleter.

Nothing in this package imports TensorFlow or Keras (a test runs it where they cannot be imported).
"""
