"""The surname tasks: nationality classification and (conditioned) surname generation: training,
metrics, inference and export."""
