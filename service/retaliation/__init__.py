"""Retaliation watch: after a case names a facility or an authority, ask a consented reporter whether
anyone has treated them worse since; a "yes" opens an urgent case linked to the first
(docs/retaliation.md)."""
