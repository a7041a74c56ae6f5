# Documentation: every relative link in the Markdown resolves (and every
# #anchor names a heading or <a id>). Runs with the boot tests in make test.
BOOT_TESTS += scripts/check-doc-links.sh
