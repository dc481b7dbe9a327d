"""The bundle, once the documents are rendered: PDF, merged dossier and manifest, history, redlines, writing."""
