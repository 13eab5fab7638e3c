"""Packaging that pyproject.toml cannot say: the model store, kept at the repository's
root, is installed inside the package as ``app/model_store`` (its package data), so that
an installed ``music-emotion`` finds its model from any folder."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app*", "training*"]), "app.model_store"],
    package_dir={"app.model_store": "model_store"},
)
