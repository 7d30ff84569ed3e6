"""Development tools that live beside csintel but never ship in its wheel (`python -m tools.sample`)."""
