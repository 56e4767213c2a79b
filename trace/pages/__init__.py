"""TRACE's pages built on the page pattern (README, "Pages"): one module per object."""
