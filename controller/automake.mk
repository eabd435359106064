# controller: see DESIGN.md (Code layout).
