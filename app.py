"""The studio's frame: page config, the browser session and the navigation, set once.

Every run of every page goes through here: ``st.navigation`` lists the tutorial by stage
(``ui.common.STAGES``), and the chosen page file then holds only its own layout and words
(``ui.common.run_frame``).
"""

from __future__ import annotations

from ui.common import run_frame

run_frame()
