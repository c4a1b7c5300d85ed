"""Figures of the kernel-sizes page."""
