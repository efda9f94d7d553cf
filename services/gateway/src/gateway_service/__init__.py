"""Taquilla gateway service."""
