"""The Textual user interface: app wiring, screens, widgets, themes."""
