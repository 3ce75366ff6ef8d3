"""A deterministic toy iMiGUE release and its proxy match outcomes.

Fixtures for tests, docs and CI, kept out of the installable package; the
``toy`` extra installs what they need (``pip install -e .[toy]``). Scripts in
data_prep/ import this as ``toy``, the tests as ``data_prep.toy``.
"""
