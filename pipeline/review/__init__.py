"""The coders' review queue: web app, worklist claims, decisions, audit and measures."""
