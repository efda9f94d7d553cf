"""Local development and test tooling for the Taquilla platform."""
