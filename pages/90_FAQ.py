"""Page 90: the FAQ (FAQ.md at the repository root), searchable inside the app."""

from __future__ import annotations

import re

import streamlit as st

from ui.common import REPO, available_pages, key, next_step, page_header, page_number

PAGE = "p90"


def faq_sections(text: str) -> list[tuple[str, str]]:
    """``(question, answer)`` for every ``## `` heading of the FAQ, in order."""
    sections = []
    for block in text.split("\n## ")[1:]:
        question, _, answer = block.partition("\n")
        sections.append((question.strip(), answer.strip()))
    return sections


def matching(sections: list[tuple[str, str]], query: str) -> list[tuple[str, str]]:
    """Sections containing every word of ``query`` (case-insensitive), question or answer."""
    words = query.lower().split()
    return [s for s in sections if all(w in (s[0] + " " + s[1]).lower() for w in words)]


def pages_mentioned(answer: str) -> list[tuple[str, str]]:
    """``(file, title)`` of every tutorial page an answer names ("page 01", "Page 13"), in
    the order it names them, so each reference becomes a link."""
    by_number = {page_number(file): (file, title) for file, title, _ in available_pages()}
    numbers = dict.fromkeys(re.findall(r"\b[Pp]ages? (\d\d)\b", answer))
    return [by_number[n] for n in numbers if n in by_number]


page_header("FAQ", "Answers to the questions learners ask most, for this studio.", "❓")
st.markdown("The same text is `FAQ.md` in the repository. Type a few words to filter it; "
            "each answer names the page where you can try it.")

sections = faq_sections((REPO / "FAQ.md").read_text(encoding="utf-8"))
query = st.text_input("Search the FAQ", key=key(PAGE, "search"),
                      placeholder="e.g. leakage, how many images, camera")
found = matching(sections, query) if query.strip() else sections
if not found:
    st.info(f"No answer mentions all of {query!r}: try fewer or other words.")
for question, answer in found:
    with st.expander(question, expanded=bool(query.strip())):
        st.markdown(answer)
        for file, title in pages_mentioned(answer):
            st.page_link(file, label=f"Open {title}", icon="➡️")

next_step("pages/90_FAQ.py", [
    "Go back to the map on the home page and pick the stage you need next.",
    "Run the dataset health check on your own photos (page 01): most answers above start "
    "there.",
])
