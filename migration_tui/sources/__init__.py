"""Sources turn the outside world into events. A source knows nothing of widgets."""
