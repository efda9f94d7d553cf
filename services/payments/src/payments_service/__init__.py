"""Taquilla payments service."""
