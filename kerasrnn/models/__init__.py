"""Keras models: the character model and its step model, the fast CPU recurrent layers, the surname
models, and loading a trained run's model back (`loading.load_run`)."""
