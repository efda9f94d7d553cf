"""Taquilla tickets service."""
