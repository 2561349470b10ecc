#!/usr/bin/env bash
# Builds the documentation site (MkDocs, mkdocs.yml) into site/, warnings as errors: a broken
# link, a page missing from the navigation or a docstring the API reference cannot read fails.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/mkdocs build --strict --quiet
echo "docs.sh: the site is in site/ (open site/index.html)"
