# flows: see DESIGN.md (Code layout).
