"""Taquilla fiscal service."""
