"""The lake datasets of the registry (the demo writes the first three in the same shape)."""

from __future__ import annotations

PERSONS = "population_persons"
HOUSEHOLDS = "population_households"
DEATHS = "population_deaths"
MOVES = "population_moves"
