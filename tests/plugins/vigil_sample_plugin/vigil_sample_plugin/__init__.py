"""A sample Vigil room from outside the vigil package: notes that officers leave."""
