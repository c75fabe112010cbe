"""Reads of the App Store room; anything owned is scoped to a partner passed in."""
