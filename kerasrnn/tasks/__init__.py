"""The tasks: what each kind of run trains, and how it is exported.

    language_model/   a character language model of a corpus (tiny Shakespeare; any text)
    surnames/         nationality classification and (conditioned) surname generation
    lessons/          the classic exercises: one sentence, variants side by side, gradients
    registry          `train` and `export_run`: the task's own code, picked by the run's config
"""
