"""Code every Taquilla service shares; imported, never deployed alone."""
