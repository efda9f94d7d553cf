"""Taquilla orders service."""
