"""Rendering: context, French filters, Markdown narratives, Word documents."""
