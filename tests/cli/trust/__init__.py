"""The trust boundary, tried as a pull request's author would (tests/cli/trust/conftest.py)."""
