"""Shared Streamlit helpers: the only place besides ``pages/`` and ``app.py`` that imports
Streamlit.  Pages hold layout and wording; the widgets and panels they share live here.

Nothing in this package imports torch or fastai at module level, so every page paints
before the heavy libraries load (they load once per server process, on first need).
"""
