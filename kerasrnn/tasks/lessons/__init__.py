"""The classic exercises: one sentence predicted exactly, variants trained side by side, and the
vanishing and exploding gradient experiments."""
