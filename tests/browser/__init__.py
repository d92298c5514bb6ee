"""Browser tests: the real app served on a local port, driven by headless Chromium."""
