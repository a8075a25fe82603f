"""What every training run shares: compiling, the callbacks, tf.distribute strategies, the
multi-worker loop and a local cluster. The tasks (`kerasrnn.tasks`) train with it."""
