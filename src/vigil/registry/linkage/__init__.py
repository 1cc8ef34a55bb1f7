"""Record linkage of persons with Splink: which records name one person, and why.

`vigil.registry.linkage.link` trains a model without labels and proposes pairs
(`dedupe`, `link`); `vigil.registry.linkage.sources` turns the registry's datasets (and any
table of persons) into the records the model compares. See docs/registry.md.
"""
