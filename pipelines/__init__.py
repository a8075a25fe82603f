"""Input pipelines: the bundled data, the character vocabulary and the tf.data pipelines."""
