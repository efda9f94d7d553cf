"""Taquilla catalog service."""
