"""Views of the safety app."""
