"""The built-in model families, one module each (see :mod:`qimage.models.family`)."""
