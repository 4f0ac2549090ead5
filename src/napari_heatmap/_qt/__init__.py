"""Qt views over the ``Heatmap`` controller (the dock widget and its parts).

Everything that imports Qt lives in this private package; the floors below never do.
"""
