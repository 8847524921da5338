"""Decoding k suggestions: token trees verified in one forward a step, acceptance, stops, alternatives."""
