"""The app's pages as AppTest and the browser reach them: (path from app.py, URL path)."""

from ui.navigation import all_topics

PAGES = [(topic.path, topic.url) for topic in all_topics()]
