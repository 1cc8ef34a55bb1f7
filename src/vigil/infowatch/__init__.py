"""Public information watch: posts, news and reported messages checked for scams, lookalike
domains, impersonation of official pages, false voting claims and coordinated campaigns."""
