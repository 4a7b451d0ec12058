"""Kindly: a desktop inbox for the social-media side of small nonprofits."""
