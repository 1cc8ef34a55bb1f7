"""Voter lists: who may vote in each commune and polling area, what changed since the last list,
and the changes in the registry that look like someone arranging the list."""
