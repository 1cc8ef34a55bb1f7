"""Known-vulnerable software: OSV advisories imported offline, inventories matched against them."""
