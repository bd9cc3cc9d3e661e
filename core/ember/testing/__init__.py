"""Ember's conformance kit: the op table and the tests that run it on any device."""
