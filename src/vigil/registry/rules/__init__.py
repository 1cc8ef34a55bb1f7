"""Quality rules of the registry: declared as data (catalog.yaml), run over the lake."""
