"""The trained-CNN and train-a-CNN pages: their inputs, figures, runs and model registry."""
