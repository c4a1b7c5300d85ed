"""The learning path: topics in order, previous/next links and predict-then-check prompts.

ends.py draws the end of every page (app.py wraps page.run() in page_end); prompts.py says what a
prompt is and how a guess is checked; cnn_prompts.py, rnn_prompts.py and compare_prompts.py hold
each page's prompts, keyed by the page's URL path.
"""

from ui.path.ends import PROMPTS, neighbours, page_end

__all__ = ["PROMPTS", "neighbours", "page_end"]
