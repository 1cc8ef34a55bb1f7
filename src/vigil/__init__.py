"""Vigil: the operations platform of an election security team."""

__version__ = "0.1.0"
