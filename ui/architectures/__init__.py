"""Figures of the architectures page."""
