"""Using a trained model: samplers (pure numpy), stepping with carried state, and losses in nats and bits."""
