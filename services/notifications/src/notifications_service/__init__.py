"""Taquilla notifications service."""
