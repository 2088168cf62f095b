"""Code common to the cloud and HOME services: wire formats, tokens, credits, clock, logging."""
