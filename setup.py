"""Only for `scrapyd-deploy`, which builds the crawlers' egg with `setup.py bdist_egg`.

Everything about the package (name, dependencies, packages, the `scrapy` entry point that tells
Scrapyd where the settings are) is in pyproject.toml; without this file scrapyd-deploy would
write its own setup.py, which contradicts pyproject.toml.
"""

from setuptools import setup

setup()
