"""The bundle: which documents, in what order, with which numbers and file names."""
