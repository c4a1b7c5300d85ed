"""Preset texts of the recurrent pages."""

# The text the LSTM page opens with: Python with quotes, brackets, comments and indentation, the
# properties its interpretable-cell ranking looks for.
SAMPLE_CODE = '''import os


def read_config(path, default=None):
    """Return the settings in path as a dict (default if missing)."""
    # skip blank lines and comments
    settings = {}
    if not os.path.exists(path):
        return default or {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip().strip('"')
    return settings
'''
