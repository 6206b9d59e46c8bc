"""The studio's frame: page config, the browser session and the navigation, set once.

Every run of every page goes through here: ``st.navigation`` lists the tutorial by stage
(``ui.common.STAGES``), and the chosen page file then holds only its own layout and words.
"""

from __future__ import annotations

import streamlit as st

from ui.common import keep_url_choices, keep_widget_values, navigation, session_owner

st.set_page_config(layout="wide")  # title and icon: the current page's (ui.common.navigation)
session_owner()
keep_url_choices()
keep_widget_values()
navigation().run()
