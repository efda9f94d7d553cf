"""Taquilla inventory service."""
