"""Checklist templates and assessments: filled in with the pre-assessment checklist issue."""
