"""The offline backend: answers composed from retrieved passages, with no network and no
model (compose.py says how). One room per part of an answer: what passages say
(passages), which words matter (terms), the lead, gaps, troubleshooting, maps, the stated
context, and the fixed wording."""

from .compose import OfflineBackend, classifier_for, compose
from .passages import render_passage, sentences

__all__ = ["OfflineBackend", "classifier_for", "compose", "render_passage", "sentences"]
