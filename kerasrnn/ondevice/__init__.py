"""The on-device runtime: an export read with numpy and LiteRT only, the autocompleter and the personal word
model it learns as the user types (`personal`, standard library only), and the server of the browser page
that runs the exports with LiteRT.js (`web_server`, standard library only).

Nothing in this package imports TensorFlow or Keras (a test runs it where they cannot be imported).
"""
