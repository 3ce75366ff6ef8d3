"""Dataset preparation: converters of the official releases.

The toy release generator lives outside the package, in data_prep/toy/.
"""
