# agent: see DESIGN.md (Code layout).
