"""Figures of the RNN pages (unrolled, LSTM gates, gradients through time)."""
