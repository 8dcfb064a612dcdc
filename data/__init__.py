"""The real Mexican layers and tables Trazo ships, installed as the ``trazo_data`` package.

This folder holds no code the application imports: it is a package only so that the wheel
carries its files (see ``[tool.setuptools]`` in pyproject.toml) and an installed Trazo finds
them with :func:`layers.bundled_data.bundled_data_dir`, whether installed from a checkout in
editable mode or from a wheel.
"""
