"""Subscription self-service: domain, services and adapters shared by every function."""
