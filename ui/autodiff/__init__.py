"""Figures and step views of the differentiable-programming page."""
