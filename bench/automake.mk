# bench: see DESIGN.md (Code layout).
