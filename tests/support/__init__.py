"""Helpers shared by the test tiers: event fixtures (events/) and the function loader."""
